// The flock shared by every nicback process, within one process. (Across real
// processes: test/cli/lock.test.ts.)
import { describe, expect, it } from 'vitest'
import { symlinkSync } from 'node:fs'
import { acquireLock, tryLock, withLock } from '../../../scripts/lib/system/lock.js'
import { registryPath } from '../../../scripts/lib/state/registry.js'

import { useTempStateDir } from '../helpers.js'

useTempStateDir()

describe('lock', () => {
  it('times out in the same process too (a second open file description)', () => {
    const lockPath = `${registryPath()}.lock`
    withLock(lockPath, 5, () => {
      expect(() => acquireLock(lockPath, 0)).toThrow(expect.objectContaining({ code: 'lock_held' }))
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

  it('tryLock: null while another holds it (code lock_held), and a lock that cannot be taken at all throws (lock_failed)', () => {
    const lockPath = `${registryPath()}.lock`
    withLock(lockPath, 5, () => {
      expect(tryLock(lockPath)).toBeNull()
    })
    const link = `${registryPath()}.link.lock`
    symlinkSync(lockPath, link)
    expect(() => tryLock(link)).toThrow(expect.objectContaining({ code: 'lock_failed', message: expect.stringMatching(/cannot open the lock .*: it is a symlink; remove it/) }))
    const free = tryLock(lockPath)
    expect(free).not.toBeNull()
    free!.release()
  })
})
