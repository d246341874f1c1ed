// What keeps a network namespace alive (issue 11, "why is my NIC still
// away"): a NIC given to a container comes back only when its netns dies, and
// a netns lives while a process is in it or a file (an nsfs bind mount such
// as /run/netns/x or /run/docker/netns/<id>) refers to it. `nicback status`
// names them for every NIC that is away, so an admin knows what to stop.
//
// Everything read here is hostile input: a process chooses its own comm and
// argv, a container can name its cgroups. The parsers are pure and total
// (never throw), and every string they give back is what was read: UTF-8 as
// it is (status escapes it where it writes it, system/printable.ts), other
// bytes with \xNN escapes (names.ts escapeBytes).
// The I/O reads /proc once for all the namespaces asked about, and a process
// that exits meanwhile is skipped, never an error.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { isNetnsFile } from '../system/netns.js'
import { escapeBytes, utf8OrNull } from './names.js'
import type { Away } from '../types.js'

/** Processes listed per namespace; the rest are counted (Keepers.total). */
export const MAX_LISTED = 20

export interface KeeperProcess {
  pid: number
  /** Its comm (or argv[0] when comm cannot be read), as showBytes gives it. */
  command: string
  /** The container its cgroup names, as 12 hex digits (docker ps); null when none does. */
  container: string | null
  /** The Kubernetes pod UID its cgroup names; null when none does. */
  pod: string | null
}

export interface Keepers {
  /** The netns's nsfs inode (`net:[N]`); null when it could not be found. */
  inode: number | null
  /** Processes in it, by PID, at most MAX_LISTED. */
  processes: KeeperProcess[]
  /** nsfs bind mounts of it (paths as in mountinfo, as showBytes gives them). */
  mounts: string[]
  /** Processes in it, listed or not. */
  total: number
  /** Why its netns could not be found (inode null); null otherwise. */
  reason: string | null
  /** Processes whose netns nicback may not look at (EACCES: it is not root,
   *  or the process is one even root may not inspect): any of them may be
   *  in this one too. */
  unreadable: number
  /** Why the processes seen may not be all of them: nicback runs in a PID
   *  namespace of its own (a pod without hostPID). Absent otherwise. */
  limit?: string
}

/** The initial PID namespace's inode (PROC_PID_INIT_INO): the host's. */
const HOST_PID_NS = 0xeffffffc

/** Why nicback cannot see every process of the host, or null: in a PID
 *  namespace of its own (a container, a pod without hostPID) only its own
 *  processes are in /proc. */
export function pidNamespaceLimit(ownPidNsInode = (): number => statSync('/proc/self/ns/pid').ino): string | null {
  let ino: number
  try {
    ino = ownPidNsInode()
  } catch {
    return null
  }
  return ino === HOST_PID_NS ? null : "nicback runs in a PID namespace of its own (a pod without hostPID), so it cannot see other containers' processes: in Kubernetes, add the keepers component (deploy/kubernetes/components/keepers)"
}

// ---------------------------------------------------------------- parsers

/** Bytes as a string: UTF-8 as it is, other bytes with \xNN escapes. */
export function showBytes(bytes: Buffer): string {
  return utf8OrNull(bytes) ?? escapeBytes(bytes)
}

const MAX_COMMAND = 64

/** Pure: a process's command for people, from /proc/PID/comm (the kernel's
 *  copy, at most 15 bytes, a trailing newline) or, failing that, argv[0]
 *  (/proc/PID/cmdline up to the first NUL). Null when neither says anything. */
export function commandOf(comm: Buffer | null, cmdline: Buffer | null): string | null {
  let b: Buffer | null = null
  if (comm !== null && comm.length > 0) b = comm[comm.length - 1] === 0x0a ? comm.subarray(0, comm.length - 1) : comm
  if ((b === null || b.length === 0) && cmdline !== null) {
    const nul = cmdline.indexOf(0)
    b = nul < 0 ? cmdline : cmdline.subarray(0, nul)
  }
  if (b === null || b.length === 0) return null
  const s = showBytes(b.subarray(0, MAX_COMMAND * 4))
  // Cut by code points: half a surrogate pair is not a character.
  const chars = [...s]
  return chars.length > MAX_COMMAND || b.length > MAX_COMMAND * 4 ? `${chars.slice(0, MAX_COMMAND).join('')}...` : s
}

/** A container id in one cgroup path component: the runtimes' systemd scopes
 *  (docker-, cri-containerd-, crio-, libpod-, nerdctl-<id>.scope) and the
 *  cgroupfs drivers' bare <id> (/docker/<id>, /kubepods/.../pod<uid>/<id>).
 *  conmon's scopes (crio-conmon-, libpod-conmon-) are not the container. */
const CONTAINER_COMPONENT = /^(?:(?:docker|cri-containerd|crio|libpod|nerdctl)-)?([0-9a-f]{64})(?:\.scope)?$/
/** A pod in one component: kubepods-besteffort-pod<uid>.slice (systemd
 *  driver, '-' in the UID written '_') or pod<uid> (cgroupfs driver). */
const POD_COMPONENT = /^(?:kubepods(?:-[a-z]+)*-)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/

export interface CgroupIds {
  /** The full 64-hex container id. */
  container: string | null
  /** The pod UID, with dashes. */
  pod: string | null
}

/** Pure: the container and pod a process's /proc/PID/cgroup names. The
 *  cgroup v2 line (0::/path) first, then the v1 lines in order. In a path the
 *  outermost match wins: a container may create cgroups below its own and
 *  name them as it likes, never above. */
export function parseCgroup(text: string): CgroupIds {
  const paths: string[] = []
  for (const line of text.split('\n')) {
    const a = line.indexOf(':')
    const b = a < 0 ? -1 : line.indexOf(':', a + 1)
    if (b < 0) continue
    const path = line.slice(b + 1)
    if (line.startsWith('0::')) paths.unshift(path)
    else paths.push(path)
  }
  let container: string | null = null
  let pod: string | null = null
  for (const path of paths) {
    const parts = path.split('/')
    const kube = parts.some((p) => p === 'kubepods' || p.startsWith('kubepods-') || p.startsWith('kubepods.'))
    for (const p of parts) {
      if (container === null) container = CONTAINER_COMPONENT.exec(p)?.[1] ?? null
      if (pod === null && kube) pod = POD_COMPONENT.exec(p)?.[1]?.replace(/_/g, '-') ?? null
    }
    if (container !== null) break
  }
  return { container, pod }
}

/** Pure: a mountinfo field (read as latin1: one character a byte) as the
 *  bytes it stands for: the kernel writes space, tab, newline and backslash
 *  in paths as \040, \011, \012 and \134, every other byte as it is. */
export function unescapeMountinfo(field: string): Buffer {
  return Buffer.from(
    field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8) & 0xff)),
    'latin1',
  )
}

export interface NsfsMount {
  /** Where it is mounted, as showBytes gives it. */
  path: string
  /** The nsfs inode of the network namespace it refers to. */
  inode: number
}

/** Pure: the bind mounts of network namespaces in a mountinfo text (proc(5),
 *  read as latin1): root `net:[N]`, on nsfs (or proc, before Linux 3.19).
 *  Lines that do not parse are skipped. */
export function nsfsMounts(mountinfo: string): NsfsMount[] {
  const out: NsfsMount[] = []
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ')
    const sep = f.indexOf('-', 6)
    if (sep < 0 || f.length < sep + 2) continue
    const fstype = f[sep + 1]
    if (fstype !== 'nsfs' && fstype !== 'proc') continue
    const m = /^net:\[(\d+)\]$/.exec(f[3]!)
    if (m === null) continue
    const inode = Number(m[1])
    if (!Number.isSafeInteger(inode)) continue
    out.push({ path: showBytes(unescapeMountinfo(f[4]!)), inode })
  }
  return out
}

// ---------------------------------------------------------------- reading

function readOrNull(path: string): Buffer | null {
  try {
    return readFileSync(path)
  } catch {
    // gone (ENOENT, ESRCH) or not ours to read: the caller does without
    return null
  }
}

function statOrNull(path: string): { dev: number; ino: number } | null {
  const st = statOrWhy(path)
  return 'ino' in st ? st : null
}

/** Gone (ENOENT, ESRCH: it exited, a normal race) or not ours to look at. */
function statOrWhy(path: string): { dev: number; ino: number } | { denied: boolean } {
  try {
    const st = statSync(path)
    return { dev: st.dev, ino: st.ino }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return { denied: code === 'EACCES' || code === 'EPERM' }
  }
}

/** Where an away NIC's network namespace is: the inode recorded when it
 *  left; for a departure recorded without one, the recorded netns file or
 *  PID, checked to be a network namespace other than nicback's own. */
export function awayInode(away: Away): { inode: number } | { reason: string } {
  if (away.netnsInode !== undefined) return { inode: away.netnsInode }
  const c = away.container
  const own = statOrNull('/proc/self/ns/net')
  const tried: string[] = []
  for (const [path, what] of [
    [c?.netns, `netns ${c?.netns}`],
    [c?.pid !== undefined ? `/proc/${c.pid}/ns/net` : undefined, `pid ${c?.pid}`],
  ] as const) {
    if (path === undefined) continue
    const st = statOrNull(path)
    if (st === null || !isNetnsFile(path)) {
      tried.push(`${what} is gone`)
      continue
    }
    if (own !== null && st.dev === own.dev && st.ino === own.ino) {
      tried.push(`${what} is in the host's network namespace now`)
      continue
    }
    return { inode: st.ino }
  }
  if (tried.length > 0) return { reason: `cannot find its network namespace: ${tried.join(', ')} (its inode was not recorded when it left)` }
  if (away.via === 'udev') return { reason: 'cannot tell which network namespace holds it: it left via udev, which does not say where it went' }
  return { reason: 'cannot tell which network namespace holds it: nicback recorded neither its netns nor a PID' }
}

/** What keeps each of these network namespaces (nsfs inodes) alive: one
 *  pass over /proc, and the mountinfo of nicback's mount namespace and of
 *  PID 1's. `proc` is for tests. */
export function readKeepers(inodes: Iterable<number>, proc = '/proc'): Map<number, Omit<Keepers, 'reason'>> {
  const out = new Map<number, Omit<Keepers, 'reason'> & { pids: number[] }>()
  for (const inode of inodes) out.set(inode, { inode, processes: [], mounts: [], total: 0, unreadable: 0, pids: [] })
  if (out.size === 0) return new Map()

  // Only inodes of nsfs count: the device of nicback's own netns file is nsfs's.
  const nsfsDev = statOrNull(`${proc}/self/ns/net`)?.dev
  let entries: string[] = []
  try {
    entries = readdirSync(proc)
  } catch {
    // no /proc: nothing to report on processes
  }
  let unreadable = 0
  for (const name of entries) {
    if (!/^[1-9]\d{0,9}$/.test(name)) continue
    const st = statOrWhy(`${proc}/${name}/ns/net`)
    if (!('ino' in st)) {
      if (st.denied) unreadable++
      continue
    }
    if (nsfsDev !== undefined && st.dev !== nsfsDev) continue
    const k = out.get(st.ino)
    if (k === undefined) continue
    k.total++
    k.pids.push(Number(name))
  }
  for (const k of out.values()) {
    k.unreadable = unreadable
    for (const pid of k.pids.sort((a, b) => a - b).slice(0, MAX_LISTED)) {
      const cg = readOrNull(`${proc}/${pid}/cgroup`)
      const ids = cg === null ? { container: null, pod: null } : parseCgroup(cg.toString('latin1'))
      const command = commandOf(readOrNull(`${proc}/${pid}/comm`), readOrNull(`${proc}/${pid}/cmdline`))
      k.processes.push({ pid, command: command ?? '?', container: ids.container?.slice(0, 12) ?? null, pod: ids.pod })
    }
  }

  const sources = [`${proc}/self/mountinfo`]
  const selfMnt = statOrNull(`${proc}/self/ns/mnt`)
  const initMnt = statOrNull(`${proc}/1/ns/mnt`)
  if (initMnt !== null && (selfMnt === null || selfMnt.ino !== initMnt.ino)) sources.push(`${proc}/1/mountinfo`)
  for (const src of sources) {
    const text = readOrNull(src)
    if (text === null) continue
    for (const m of nsfsMounts(text.toString('latin1'))) {
      const k = out.get(m.inode)
      if (k !== undefined && !k.mounts.includes(m.path)) k.mounts.push(m.path)
    }
  }
  return new Map([...out].map(([ino, k]) => [ino, { inode: k.inode, processes: k.processes, mounts: k.mounts.sort(), total: k.total, unreadable: k.unreadable }]))
}

/** What keeps the network namespace of each away NIC alive, or why it
 *  cannot be found. */
export function keepersOf(aways: readonly Away[], proc = '/proc', limit = pidNamespaceLimit()): Keepers[] {
  const where = aways.map(awayInode)
  const found = readKeepers(
    where.flatMap((w) => ('inode' in w ? [w.inode] : [])),
    proc,
  )
  return where.map((w) => ('inode' in w ? { ...found.get(w.inode)!, reason: null, ...(limit === null ? {} : { limit }) } : { inode: null, processes: [], mounts: [], total: 0, reason: w.reason, unreadable: 0 }))
}
