// The flock shared by every nicback process, within one process. (Across real
// processes: test/cli/lock.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { acquireLock, LockTimeoutError, withLock } from '../../../scripts/lib/system/lock.js'
import { registryPath } from '../../../scripts/lib/state/registry.js'

let dir: string
const savedEnv = process.env.NICBACK_STATE_DIR

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nicback-reg-'))
  process.env.NICBACK_STATE_DIR = dir
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
  if (savedEnv === undefined) delete process.env.NICBACK_STATE_DIR
  else process.env.NICBACK_STATE_DIR = savedEnv
})

describe('lock', () => {
  it('times out in the same process too (a second open file description)', () => {
    const lockPath = `${registryPath()}.lock`
    withLock(lockPath, 5, () => {
      expect(() => acquireLock(lockPath, 0)).toThrow(LockTimeoutError)
    })
    // Released by withLock: free again.
    acquireLock(lockPath, 0).release()
  })

  it('releases it in withLock when the function throws', () => {
    const lockPath = `${registryPath()}.lock`
    expect(() =>
      withLock(lockPath, 5, () => {
        throw new Error('boom')
      }),
    ).toThrow('boom')
    acquireLock(lockPath, 0).release()
  })
})
