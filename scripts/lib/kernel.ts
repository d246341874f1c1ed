// What the running kernel allows.
import { release } from 'node:os'

/** Kernels before 6.2 refuse to rename an UP interface (EBUSY).
 *  NICBACK_RENAME_WHILE_UP=0|1 overrides, for tests of the old behaviour. */
export function renameWhileUp(rel = release(), env = process.env.NICBACK_RENAME_WHILE_UP): boolean {
  if (env === '0' || env === '1') return env === '1'
  const m = /^(\d+)\.(\d+)/.exec(rel)
  if (!m) return false
  const [major, minor] = [Number(m[1]), Number(m[2])]
  return major > 6 || (major === 6 && minor >= 2)
}
