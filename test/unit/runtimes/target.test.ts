// Where a NIC goes: a container, a PID, a netns name or path.
import { describe, expect, test } from 'vitest'
import { MoveError } from '../../../scripts/lib/apply/transit.js'
import { describeTarget, targetPath } from '../../../scripts/lib/runtimes/target.js'

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
