// Finding a recorded NIC in a container's netns (findNic), by identity.
import { describe, expect, test } from 'vitest'
import { findNic } from '../../../scripts/lib/apply/transit.js'
import { entry, link } from '../helpers.js'

describe('finding a recorded NIC inside a container', () => {
  const away = { since: 't', via: 'assign' as const, leftAs: 'ens3', insideName: 'eth0' }

  test('by bus whatever its name and MAC', () => {
    const rec = entry('ens3', { bus: '0000:00:03.0', away })
    const inside = [link('eth0', { ifindex: 9, bus: '0000:00:04.0' }), link('lan', { ifindex: 3, bus: '0000:00:03.0', mac: '02:99:00:00:00:01' })]
    expect(findNic(rec, inside)?.ifindex).toBe(3)
  })

  test('a virtual stand-in (MAC only) whose MAC the container changed: by the ifindex it left with, never by a name (issue 8)', () => {
    const rec = entry('ens3', { away })
    expect(findNic(rec, [link('eth0', { ifindex: 9, mac: '02:99:99:99:99:99' })])).toBeUndefined()
    expect(findNic(rec, [link('lan', { ifindex: 2, mac: '02:99:99:99:99:99' })])?.name).toBe('lan')
    expect(findNic(rec, [link('eth0', { ifindex: 2, mac: '02:99:99:99:99:99', bus: '0000:00:05.0' })])).toBeUndefined()
    // of two with its MAC, the one with the ifindex that left, never a look-alike
    expect(findNic(rec, [link('eth0', { ifindex: 7 }), link('eth9')])?.name).toBe('eth9')
    expect(findNic(rec, [link('eth0')])?.name).toBe('eth0')
  })

  test('a NIC known by bus is never found by name', () => {
    const rec = entry('ens3', { bus: '0000:00:03.0', away })
    expect(findNic(rec, [link('eth0')])).toBeUndefined()
  })

  test('two ports of one function: the name hint decides, else nothing', () => {
    const rec = entry('ens3', { bus: '0000:00:03.0', away })
    const two = [link('eth0', { ifindex: 3, bus: '0000:00:03.0' }), link('eth1', { ifindex: 4, bus: '0000:00:03.0' })]
    expect(findNic(rec, two)?.ifindex).toBe(3)
    expect(findNic(entry('ens3', { bus: '0000:00:03.0', away: { ...away, insideName: 'x' } }), two)).toBeUndefined()
  })
})
