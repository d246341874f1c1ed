// One lock for every nicback process (udev workers, OCI hooks, an admin):
// flock(1) from util-linux on a file next to the registry. The lock belongs to
// the open file description, which node keeps open after flock(1) exits, and
// the kernel drops it when the holder dies: a killed udev worker can never
// leave a stale lock behind (a mkdir/mtime lock such as proper-lockfile can).
import { spawnSync } from 'node:child_process'
import { closeSync, constants, fstatSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { isNicbackError, NicbackError } from './errors.js'
import { which } from './exec.js'
import { ensurePrivateDir, privateProblem } from './paths.js'

export interface Lock {
  release(): void
}

/** timeoutSec 0: try once, never wait (a NicbackError 'lock_held' when held; 'lock_failed' when it
 *  cannot be opened or taken at all). */
export function acquireLock(path: string, timeoutSec: number): Lock {
  ensurePrivateDir(dirname(path))
  // Never through a symlink, never a file someone else owns or can write.
  let fd: number
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ELOOP' ? 'it is a symlink' : (err as Error).message
    throw new NicbackError({ code: 'lock_failed', verb: 'open the lock', cause: `cannot open the lock ${path}: ${why}`, fix: 'remove it (nicback makes it again) and check who made it' })
  }
  const problem = privateProblem(fstatSync(fd), 'file')
  if (problem !== null) {
    closeSync(fd)
    throw new NicbackError({ code: 'lock_failed', verb: 'open the lock', cause: `refusing the lock ${path}: ${problem}`, fix: 'remove it (nicback makes it again)' })
  }
  // flock(1) given a descriptor number locks that descriptor: the child's fd 3
  // is our `fd`, so the lock stays with us when the child exits.
  const r = spawnSync(which('flock'), ['--exclusive', ...(timeoutSec === 0 ? ['--nonblock'] : ['--wait', String(timeoutSec)]), '3'], {
    stdio: ['ignore', 'ignore', 'pipe', fd],
    encoding: 'utf8',
  })
  if (r.status !== 0) {
    closeSync(fd)
    const held = !r.error && r.status === 1
    const why = r.error ? r.error.message : held ? `still held by another nicback after ${timeoutSec} s` : r.stderr.trim()
    throw new NicbackError({ code: held ? 'lock_held' : 'lock_failed', verb: 'take the lock', cause: `cannot lock ${path}: ${why}`, fix: `if no nicback is running, check "fuser -v ${path}"` })
  }
  let held = true
  return {
    release() {
      if (held) closeSync(fd)
      held = false
    },
  }
}

export function withLock<T>(path: string, timeoutSec: number, fn: () => T): T {
  const lock = acquireLock(path, timeoutSec)
  try {
    return fn()
  } finally {
    lock.release()
  }
}

/** The lock if it is free now, else null (other failures throw). */
export function tryLock(path: string): Lock | null {
  try {
    return acquireLock(path, 0)
  } catch (err) {
    if (isNicbackError(err, 'lock_held')) return null
    throw err
  }
}
