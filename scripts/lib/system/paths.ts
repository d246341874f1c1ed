// Where nicback's own files are at run time: the folder holding nicback.mjs
// (dist/ in a checkout, /usr/local/lib/nicback once installed), with the udev
// and hook templates copied beside it by the build.
import { closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, realpathSync, unlinkSync, type Stats } from 'node:fs'
import { dirname, isAbsolute, join } from 'node:path'
import { nicbackError } from './errors.js'

export function distDir(): string {
  const main = process.argv[1]
  if (main === undefined) throw nicbackError('failed', 'find where nicback is installed', 'cannot tell where nicback is installed (no script path in argv)')
  return dirname(realpathSync(main))
}

/** Absolute path of the node binary running us: what udev and hooks must call. */
export const nodeBin = process.execPath

/** nicback's state: $NICBACK_STATE_DIR, default /var/lib/nicback. Here, not
 *  in registry.ts, so that callers can find the file without loading the
 *  registry's schema (the OCI hook's quick look at poststop). */
export function stateDir(): string {
  const dir = process.env.NICBACK_STATE_DIR || '/var/lib/nicback'
  if (!isAbsolute(dir)) throw nicbackError('state_dir', 'check the state directory', `NICBACK_STATE_DIR must be an absolute path, not "${dir}"`)
  if (/^\/(proc|sys|dev)(\/|$)/.test(dir)) throw nicbackError('state_dir', 'check the state directory', `NICBACK_STATE_DIR=${dir} is on a kernel filesystem: point it at a directory on disk (default /var/lib/nicback)`)
  return dir
}

/** Why a state file or directory is not nicback's to trust, or null: it
 *  must be owned by the user nicback runs as (root) and be writable by no
 *  one else. Anyone who can write the registry can make nicback rename a
 *  host NIC to a name of their choosing. */
export function privateProblem(st: Stats, kind: 'file' | 'dir'): string | null {
  const uid = process.geteuid?.() ?? 0
  if (kind === 'dir' ? !st.isDirectory() : !st.isFile()) return `it is not a ${kind === 'dir' ? 'directory' : 'regular file'}`
  if (st.uid !== uid) return `it is owned by uid ${st.uid}, not ${uid === 0 ? 'root' : `uid ${uid}`}`
  if ((st.mode & 0o022) !== 0) return `others can write it (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`
  return null
}

/** The udev front's lock (udev/nicback-udev-front.sh, leader.ts). */
export const FRONT_LOCK = 'udev-leader.lock'
/** The leader's note, udev-leading.PID (leader.ts): its process's start time. */
export const LEADING_NOTE = 'udev-leading'
/** The mode by which nicback vouches for its state directory to the udev
 *  front, which cannot read a directory's mode without starting a process:
 *  the lock, a regular file root owns, with the sticky bit (meaningless on
 *  a file; nobody but root can make a root-owned file carry it). */
export const VOUCHED_LOCK_MODE = 0o1600

/** After a check of `dir`: vouched for (the lock made, or given the sticky
 *  bit) when it is private, the vouch taken back (the lock removed) when it
 *  is root's directory but others can write it. Best effort: without it the
 *  front hands every event to node, which checks the directory itself. */
function vouchForFront(dir: string, st: Stats, problem: string | null): void {
  const lock = join(dir, FRONT_LOCK)
  try {
    if (problem !== null) {
      if (st.isDirectory() && !st.isSymbolicLink() && st.uid === (process.geteuid?.() ?? 0)) unlinkSync(lock)
      return
    }
    const fd = openSync(lock, constants.O_RDONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600)
    try {
      const at = fstatSync(fd)
      if (privateProblem(at, 'file') === null && (at.mode & 0o7777) !== VOUCHED_LOCK_MODE) fchmodSync(fd, VOUCHED_LOCK_MODE)
    } finally {
      closeSync(fd)
    }
  } catch {}
}

/** Pure: the error for a state directory refused for `problem`, with its
 *  real cause: run by anyone but root, a directory that is not theirs is
 *  refused because they are not root, and "make it root's" would not help. */
export function stateDirRefusal(dir: string, st: Pick<Stats, 'uid'>, problem: string, uid = process.geteuid?.() ?? 0): string {
  if (uid !== 0 && st.uid !== uid) return `cannot use the state directory ${dir} (uid ${st.uid}'s): nicback runs as uid ${uid}, not root; run it as root (or set NICBACK_STATE_DIR to a private directory of your own)`
  return `refusing the state directory ${dir}: ${problem}; make it root's and private ("chown root: ${dir} && chmod 0700 ${dir}") or set NICBACK_STATE_DIR`
}

/** Checks the state directory if it exists (readers: no directory is made). */
export function checkPrivateDir(dir: string): void {
  let st: Stats
  try {
    st = lstatSync(dir)
  } catch {
    return
  }
  const problem = st.isSymbolicLink() ? 'it is a symlink' : privateProblem(st, 'dir')
  if (problem !== null) vouchForFront(dir, st, problem)
  if (problem !== null) throw nicbackError('state_dir', 'check the state directory', stateDirRefusal(dir, st, problem))
}

/** Makes the state directory (mode 0700) or checks the one there. */
export function ensurePrivateDir(dir: string): void {
  let st: Stats
  try {
    st = lstatSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw nicbackError('state_dir', 'check the state directory', `cannot read the state directory ${dir}: ${(err as Error).message}`)
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 })
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      throw nicbackError(
        'state_dir',
        'check the state directory',
        code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? `cannot create the state directory ${dir} (${code}): run nicback as root, or set NICBACK_STATE_DIR to a directory you own`
          : `cannot create the state directory ${dir}: ${(e as Error).message}`,
      )
    }
    st = lstatSync(dir)
  }
  const problem = st.isSymbolicLink() ? 'it is a symlink' : privateProblem(st, 'dir')
  vouchForFront(dir, st, problem)
  if (problem !== null) throw nicbackError('state_dir', 'check the state directory', stateDirRefusal(dir, st, problem))
}

export function registryPath(): string {
  return join(stateDir(), 'registry.json')
}

/** The restore counters `nicback metrics` shows (state/counters.ts), beside
 *  the registry and written under its lock. */
export function countersPath(): string {
  return join(stateDir(), 'counters.json')
}
