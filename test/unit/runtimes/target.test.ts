// Where a NIC goes: a container, a PID, a netns name or path.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test, vi } from 'vitest'
import { isMoveError } from '../../../scripts/lib/apply/transit.js'
import { checkLocation, containerNicsNow, describeTarget, openTarget, targetPath } from '../../../scripts/lib/runtimes/target.js'
import { entry } from '../helpers.js'

describe('targets', () => {
  test('a PID, a netns name or a path', () => {
    expect(targetPath({ pid: 42 })).toBe('/proc/42/ns/net')
    expect(targetPath({ netns: 'ctr' })).toBe('/run/netns/ctr')
    expect(targetPath({ netns: '/var/run/docker/netns/9a8b' })).toBe('/var/run/docker/netns/9a8b')
    expect(targetPath({ pid: 42, container: { id: 'abc', name: 'c1' } })).toBe('/proc/42/ns/net')
    expect(() => targetPath({})).toThrow(expect.objectContaining({ code: 'move_refused' }))
    try {
      targetPath({})
    } catch (err) {
      expect(isMoveError(err)).toBe(true)
    }
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

describe("a container's NICs now (release --from, poststop)", () => {
  const away = (name: string, id: string, netns?: string) => entry(name, { away: { since: 't', via: 'hook', leftAs: name, container: { id, ...(netns ? { netns } : {}) } } })
  const entries = [away('eth1', 'c1', '/nonexistent/netns'), away('eth2', 'c2'), entry('eth3')]
  test('the NICs recorded as away in it; no netns file alive, none opened', () => {
    const held = vi.fn(() => ['/nonexistent/joined'])
    expect(containerNicsNow(entries, (c) => c?.id === 'c1', { held })).toEqual({ names: ['eth1'], from: null })
    expect(held).toHaveBeenCalledTimes(1)
    expect(containerNicsNow(entries, (c) => c?.id === 'c1', {})).toEqual({ names: ['eth1'], from: null })
  })
  test('none recorded: the netns files are not even looked for', () => {
    const held = vi.fn(() => [])
    expect(containerNicsNow(entries, (c) => c?.id === 'c9', { held })).toEqual({ names: [], from: null })
    expect(held).not.toHaveBeenCalled()
  })
})

describe('openTarget: a target that is no network namespace is refused, one that cannot be opened failed (by the error code, not its text)', () => {
  test('a regular file: refused (not_netns); a missing file: failed (netns)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nicback-target-'))
    try {
      const file = join(dir, 'plain')
      writeFileSync(file, '')
      expect(() => openTarget({ netns: file })).toThrow(expect.objectContaining({ code: 'move_refused', message: expect.stringMatching(/is not a namespace file/) }))
      expect(() => openTarget({ netns: join(dir, 'missing') })).toThrow(expect.objectContaining({ code: 'move_failed', message: expect.stringMatching(/cannot open the network namespace of .*: no such file/) }))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
