// Which recorded NIC is which device: only what a container cannot forge.
import { describe, expect, it } from 'vitest'
import { identityKey, matchNics, sameNic } from '../../../scripts/lib/facts/identity.js'
import type { Identity } from '../../../scripts/lib/types.js'
import { identity as id } from '../helpers.js'

type Rec = Identity & { ifindex: number | null; name: string }
type Dev = Identity & { ifindex: number; name: string }
const rec = (name: string, o: Partial<Rec>): Rec => ({ ...id(o), ifindex: null, name, ...o })
const dev = (ifindex: number, name: string, o: Partial<Dev>): Dev => ({ ...id(o), ifindex, name, ...o })

describe('sameNic', () => {
  it('matches on bus, and on dev_port when both sides know it', () => {
    const r = id({ bus: '0000:00:03.0', devPort: 0 })
    expect(sameNic(r, id({ bus: '0000:00:03.0', devPort: 0 }))).toBe(true)
    expect(sameNic(r, id({ bus: '0000:00:03.0', devPort: 1 }))).toBe(false)
    expect(sameNic(r, id({ bus: '0000:00:03.0', devPort: null }))).toBe(true)
    expect(sameNic(id({ bus: '0000:00:03.0' }), id({ bus: '0000:00:03.0', devPort: 1 }))).toBe(true)
    expect(sameNic(r, id({ bus: '0000:00:04.0', devPort: 0 }))).toBe(false)
  })

  it('is not fooled by a MAC the container changed (bus NIC)', () => {
    const r = id({ bus: '0000:00:03.0', mac: '52:54:00:00:00:03' })
    expect(sameNic(r, id({ bus: '0000:00:03.0', mac: '02:de:ad:be:ef:00' }))).toBe(true)
  })

  it('does not let a veth claim a bus entry by copying its MAC or its permanent MAC', () => {
    const r = id({ bus: '0000:00:03.0', permAddr: '52:54:00:00:00:03', mac: '52:54:00:00:00:03' })
    expect(sameNic(r, id({ mac: '52:54:00:00:00:03' }))).toBe(false)
    expect(sameNic(r, id({ mac: '52:54:00:00:00:03', permAddr: '52:54:00:00:00:03' }))).toBe(false)
  })

  it('matches a NIC without bus by its permanent MAC, never by a current MAC equal to it', () => {
    const r = id({ permAddr: '00:1b:21:00:00:01', mac: '00:1b:21:00:00:01' })
    expect(sameNic(r, id({ permAddr: '00:1b:21:00:00:01', mac: '02:00:00:00:00:99' }))).toBe(true)
    expect(sameNic(r, id({ permAddr: '00:1b:21:00:00:02', mac: '00:1b:21:00:00:01' }))).toBe(false)
    expect(sameNic(r, id({ mac: '00:1b:21:00:00:01' }))).toBe(false)
  })

  it('matches a device recorded by MAC only (a veth stand-in) by MAC, and only devices without bus', () => {
    const r = id({ mac: 'aa:bb:cc:00:00:01' })
    expect(sameNic(r, id({ mac: 'aa:bb:cc:00:00:01' }))).toBe(true)
    expect(sameNic(r, id({ mac: 'aa:bb:cc:00:00:02' }))).toBe(false)
    expect(sameNic(r, id({ bus: '0000:00:03.0', mac: 'aa:bb:cc:00:00:01' }))).toBe(false)
    expect(sameNic(id({}), id({}))).toBe(false)
  })
})

describe('identityKey', () => {
  it('names the strongest identity', () => {
    expect(identityKey(id({ bus: '0000:00:03.0', permAddr: 'aa:aa:aa:aa:aa:aa' }))).toBe('bus 0000:00:03.0')
    expect(identityKey(id({ bus: '0000:00:03.0', devPort: 1 }))).toBe('bus 0000:00:03.0 port 1')
    expect(identityKey(id({ permAddr: 'aa:aa:aa:aa:aa:aa', mac: 'bb:bb:bb:bb:bb:bb' }))).toBe('permaddr aa:aa:aa:aa:aa:aa')
    expect(identityKey(id({ mac: 'bb:bb:bb:bb:bb:bb' }))).toBe('mac bb:bb:bb:bb:bb:bb')
    expect(identityKey(id({}))).toBe('mac none')
  })
})

describe('matchNics', () => {
  it('pairs each entry with its device one to one', () => {
    const recs = [rec('eth0', { bus: '0000:00:03.0' }), rec('eth1', { bus: '0000:00:04.0' }), rec('eth2', { bus: '0000:00:05.0' })]
    const devs = [dev(4, 'dev4', { bus: '0000:00:04.0' }), dev(3, 'eth1', { bus: '0000:00:03.0' })]
    const { found, ambiguous } = matchNics(recs, devs)
    expect(found.get(recs[0]!)).toBe(devs[1])
    expect(found.get(recs[1]!)).toBe(devs[0])
    expect(found.has(recs[2]!)).toBe(false)
    expect(ambiguous.size).toBe(0)
  })

  it('narrows a bus match without dev_port by the recorded ifindex or name', () => {
    const devs = [dev(5, 'dev5', { bus: '0000:00:03.0', devPort: 0 }), dev(6, 'eth7', { bus: '0000:00:03.0', devPort: 1 })]
    const byIfindex = rec('eth0', { bus: '0000:00:03.0', ifindex: 5 })
    const byName = rec('eth7', { bus: '0000:00:03.0', ifindex: 99 })
    const { found, ambiguous } = matchNics([byIfindex, byName], devs)
    expect(found.get(byIfindex)).toBe(devs[0])
    expect(found.get(byName)).toBe(devs[1])
    expect(ambiguous.size).toBe(0)
  })

  it('does not guess when the hint does not narrow it to one', () => {
    const devs = [dev(5, 'dev5', { bus: '0000:00:03.0', devPort: 0 }), dev(6, 'dev6', { bus: '0000:00:03.0', devPort: 1 })]
    for (const r of [rec('eth0', { bus: '0000:00:03.0', ifindex: 3 }), rec('dev6', { bus: '0000:00:03.0', ifindex: 5 })]) {
      const { found, ambiguous } = matchNics([r], devs)
      expect(found.size).toBe(0)
      expect(ambiguous.get(r)).toBe('2 devices match bus 0000:00:03.0: dev5, dev6')
    }
  })

  it('marks every entry that claims one device as ambiguous', () => {
    const a = rec('eth0', { bus: '0000:00:03.0' })
    const b = rec('eth1', { permAddr: '52:54:00:00:00:03' })
    const other = rec('eth2', { bus: '0000:00:04.0' })
    const devs = [dev(3, 'dev3', { bus: '0000:00:03.0', permAddr: '52:54:00:00:00:03' }), dev(4, 'eth2', { bus: '0000:00:04.0' })]
    const { found, ambiguous } = matchNics([a, b, other], devs)
    expect(found.has(a)).toBe(false)
    expect(found.has(b)).toBe(false)
    expect(found.get(other)).toBe(devs[1])
    expect(ambiguous.get(a)).toBe('dev3 is claimed by 2 recorded NICs (eth0, eth1)')
    expect(ambiguous.get(b)).toBe('dev3 is claimed by 2 recorded NICs (eth0, eth1)')
  })
})
