// Where a NIC goes: a container, a PID, a netns name or path.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { MoveError } from '../../../scripts/lib/apply/transit.js'
import { checkLocation, describeTarget, openTarget, targetPath } from '../../../scripts/lib/runtimes/target.js'

describe('targets', () => {
  test('a PID, a netns name or a path', () => {
    expect(targetPath({ pid: 42 })).toBe('/proc/42/ns/net')
    expect(targetPath({ netns: 'ctr' })).toBe('/run/netns/ctr')
    expect(targetPath({ netns: '/var/run/docker/netns/9a8b' })).toBe('/var/run/docker/netns/9a8b')
    expect(targetPath({ pid: 42, container: { id: 'abc', name: 'c1' } })).toBe('/proc/42/ns/net')
    expect(() => targetPath({})).toThrow(MoveError)
    expect(() => targetPath({ pid: 1, netns: 'x' })).toThrow('not both')
    expect(() => targetPath({ pid: -1 })).toThrow('not a process id')
    expect(describeTarget({ pid: 42, container: { name: 'c1' } })).toBe('container c1')
    expect(describeTarget({ pid: 42, container: { id: '0123456789abcdef0123' } })).toBe('container 0123456789ab')
    expect(describeTarget({ pid: 42 })).toBe('pid 42')
    expect(describeTarget({ netns: 'ctr' })).toBe('netns ctr')
  })
})

describe('checkLocation: the namespace found is the one the NIC went to', () => {
  const at = (byEngine: boolean, inode: number | undefined, where = 'pid 42') => ({ path: '/proc/42/ns/net', where, byEngine, inode })
  test('the recorded inode: the same namespace, whoever named it', () => {
    expect(checkLocation(at(false, 7), 7)).toBe('same')
    expect(checkLocation(at(true, 7), 7)).toBe('same')
  })
  test("the engine's running container in another netns: restarted, the NIC is not there", () => {
    expect(checkLocation(at(true, 7), 8)).toBe('elsewhere')
    expect(checkLocation(at(true, undefined), 8)).toBe('same')
  })
  test('a recorded PID or file in another netns, or with no inode to check: refused, saying why', () => {
    expect(checkLocation(at(false, 7), 8)).toMatch(/pid 42 is in network namespace net:\[8\], not net:\[7\] the NIC was given to: that process/)
    expect(checkLocation(at(false, 7, 'netns /run/netns/x'), 8)).toMatch(/that file is not the container's/)
    expect(checkLocation(at(false, undefined), 8)).toMatch(/did not record which network namespace/)
  })
})

describe('openTarget: a target that is no network namespace is refused, one that cannot be opened failed (by the error code, not its text)', () => {
  test('a regular file: refused (not_netns); a missing file: failed (netns)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nicback-target-'))
    try {
      const file = join(dir, 'plain')
      writeFileSync(file, '')
      expect(() => openTarget({ netns: file })).toThrow(expect.objectContaining({ kind: 'refused', message: expect.stringMatching(/is not a namespace file/) }))
      expect(() => openTarget({ netns: join(dir, 'missing') })).toThrow(expect.objectContaining({ kind: 'failed', message: expect.stringMatching(/cannot open the network namespace of .*: no such file/) }))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
