// sriov-cni's own record of a VF's host name: on ADD it writes the network
// config it rendered, with the VF's PCI address (`deviceID`) and its host
// name before the move (`OrigVfState.HostIFName`), to
// /var/lib/cni/sriov/<containerid>-<ifname> (mode 0600, in a 0700 directory)
// and reads it back on DEL. A pod that died without a DEL leaves it there:
// the one place the VF's host name is still written down, by root, on the
// host, out of the pod's reach. Read as data, never run, and only what is
// root's alone: a file someone else owns or may write could name any VF
// anything, so it is refused (and said why), never read.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, type Stats } from 'node:fs'
import { dirname, join } from 'node:path'
import { PCI_ADDR } from './links.js'
import { isValidIfname } from './names.js'

export const SRIOV_CNI_DIR = '/var/lib/cni/sriov'

/** Files looked at, at most (a node runs at most a few hundred pods). */
const MAX_FILES = 4096
/** sriov-cni's config with its cached state is a few KiB. */
const MAX_BYTES = 65536

export interface CachedName {
  name: string
  /** The cache file that says so. */
  file: string
  /** When sriov-cni wrote it (its ADD), ms since the epoch. */
  mtimeMs: number
}

export interface SriovCache {
  /** Host names by the VF's PCI address. */
  byBus: Map<string, CachedName[]>
  /** Files not read, and why. */
  refused: { file: string; why: string }[]
}

/** Pure: the VF and its host name in one cache file's text, or why not. */
export function parseSriovCache(text: string): { bus: string; name: string } | string {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    return 'not JSON'
  }
  if (typeof data !== 'object' || data === null) return 'not a JSON object'
  const o = data as { deviceID?: unknown; OrigVfState?: { HostIFName?: unknown } | null }
  const bus = typeof o.deviceID === 'string' ? o.deviceID.toLowerCase() : null
  if (bus === null || !PCI_ADDR.test(bus)) return 'no PCI address in "deviceID"'
  const name = o.OrigVfState?.HostIFName
  if (typeof name !== 'string' || name === '') return 'no host name in "OrigVfState.HostIFName"'
  if (!isValidIfname(name)) return '"OrigVfState.HostIFName" is not a valid interface name'
  return { bus, name }
}

/** Pure: why root must not trust what `st` describes, or null: it is root's
 *  and no one else may write it. */
export function notRootsAlone(st: Pick<Stats, 'uid' | 'mode'>, what: string): string | null {
  if (st.uid !== 0) return `${what} belongs to uid ${st.uid}, not root`
  if ((st.mode & 0o022) !== 0) return `others may write ${what} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`
  return null
}

/** Why the directory `dir` and every directory above it cannot be trusted,
 *  or null: each a real directory and root's; `dir` writable by root alone,
 *  those above it too unless sticky (/tmp: no one else can move root's
 *  entries there). */
function dirProblem(dir: string): string | null {
  for (let d = dir; ; d = dirname(d)) {
    const st = lstatSync(d)
    if (!st.isDirectory()) return `${d} is not a directory${st.isSymbolicLink() ? ' (a symlink)' : ''}`
    const p = notRootsAlone(d !== dir && (st.mode & 0o1000) !== 0 ? { uid: st.uid, mode: st.mode & ~0o022 } : st, d)
    if (p !== null) return p
    if (d === dirname(d)) return null
  }
}

/** One file's text, if it is a regular file root's alone, read without
 *  following a link or blocking on a FIFO; else why not. */
function readRootsFile(path: string): { text: string; mtimeMs: number } | { why: string } {
  const st = lstatSync(path)
  if (!st.isFile()) return { why: st.isSymbolicLink() ? 'a symlink' : 'not a regular file' }
  const before = notRootsAlone(st, 'the file')
  if (before !== null) return { why: before }
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  try {
    const now = fstatSync(fd)
    const problem = !now.isFile() || now.ino !== st.ino ? 'replaced while being read' : (notRootsAlone(now, 'the file') ?? (now.size > MAX_BYTES ? `larger than ${MAX_BYTES} bytes` : null))
    if (problem !== null) return { why: problem }
    return { text: readFileSync(fd, 'utf8'), mtimeMs: now.mtimeMs }
  } finally {
    closeSync(fd)
  }
}

/** Every VF host name sriov-cni's cache holds. A missing directory is an
 *  empty cache; one that is not root's alone is refused whole. */
export function readSriovCache(dir = process.env.NICBACK_SRIOV_CNI_DIR || SRIOV_CNI_DIR): SriovCache {
  const cache: SriovCache = { byBus: new Map(), refused: [] }
  let names: string[]
  try {
    const problem = dirProblem(dir)
    if (problem !== null) {
      cache.refused.push({ file: dir, why: problem })
      return cache
    }
    names = readdirSync(dir).sort().slice(0, MAX_FILES)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') cache.refused.push({ file: dir, why: (err as Error).message })
    return cache
  }
  for (const n of names) {
    const file = join(dir, n)
    try {
      // its pci/ directory holds the netns path of each VF, not a name
      if (lstatSync(file).isDirectory()) continue
      const read = readRootsFile(file)
      const parsed = 'text' in read ? parseSriovCache(read.text) : read.why
      if (typeof parsed === 'string') {
        cache.refused.push({ file, why: parsed })
        continue
      }
      const list = cache.byBus.get(parsed.bus) ?? []
      list.push({ name: parsed.name, file, mtimeMs: 'text' in read ? read.mtimeMs : 0 })
      cache.byBus.set(parsed.bus, list)
    } catch (err) {
      // gone since the listing (a DEL): not an error
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') cache.refused.push({ file, why: (err as Error).message })
    }
  }
  return cache
}
