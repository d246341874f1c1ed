// Every network namespace of the host other than nicback's own, and one way
// to open each: a process in it (/proc/PID/ns/net), else an nsfs bind mount
// of it (/run/netns/x, /run/docker/netns/<id>). What `nicback record` and the
// agent's start look into for NICs that are away already (issue 20: a NIC
// that left before nicback was there). A process that exits meanwhile is
// skipped, never an error; comm and mount paths are shown, never trusted.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { nsfsMounts, showBytes } from './keepers.js'

/** Namespaces looked into, at most (a node runs a few hundred pods). */
export const MAX_NAMESPACES = 4096

export interface NetnsSeen {
  inode: number
  /** A file that refers to it, to open it by. */
  path: string
  /** For people: "pid 1234 (pause)" or "netns /run/netns/x", no control characters. */
  where: string
}

/** Pure: text for people and for the registry: control characters as "?",
 *  at most 200 characters. */
export function tame(s: string): string {
  // eslint-disable-next-line no-control-regex -- it replaces control characters
  return s.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 200)
}

/** The host's network namespaces other than `own`, each once. */
export function otherNetns(proc = '/proc'): NetnsSeen[] {
  let own: number
  try {
    own = statSync(`${proc}/self/ns/net`).ino
  } catch {
    return []
  }
  const seen = new Map<number, NetnsSeen>()
  let pids: string[] = []
  try {
    pids = readdirSync(proc).filter((n) => /^[1-9]\d{0,9}$/.test(n))
  } catch {
    // no /proc: only the mounts below
  }
  for (const pid of pids.sort((a, b) => Number(a) - Number(b))) {
    if (seen.size >= MAX_NAMESPACES) break
    let ino: number
    try {
      ino = statSync(`${proc}/${pid}/ns/net`).ino
    } catch {
      continue
    }
    if (ino === own || seen.has(ino)) continue
    let comm = '?'
    try {
      comm = showBytes(readFileSync(`${proc}/${pid}/comm`)).trim()
    } catch {
      // exited meanwhile
    }
    seen.set(ino, { inode: ino, path: `${proc}/${pid}/ns/net`, where: tame(`pid ${pid} (${comm})`) })
  }
  let mountinfo = ''
  try {
    mountinfo = readFileSync(`${proc}/self/mountinfo`, 'latin1')
  } catch {
    // none to read
  }
  for (const m of nsfsMounts(mountinfo)) {
    if (seen.size >= MAX_NAMESPACES) break
    if (m.inode === own || seen.has(m.inode)) continue
    seen.set(m.inode, { inode: m.inode, path: m.path, where: tame(`netns ${m.path}`) })
  }
  return [...seen.values()]
}
