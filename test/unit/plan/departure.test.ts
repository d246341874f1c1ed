// What a departure does to the registry (the seed's init_ns_name): pure.
import { describe, expect, it } from 'vitest'
import { departureByName, noteDeparture } from '../../../scripts/lib/plan/departure.js'
import type { Link } from '../../../scripts/lib/types.js'
import { BUS, busEntry as entry, clone, dep, NOW, reg, T0 } from '../helpers.js'

describe('noteDeparture', () => {
  it('records the name of a NIC seen leaving for the first time', () => {
    const r = reg()
    const n = noteDeparture(r, dep('eth2'), NOW)
    expect(n).toMatchObject({ changed: true, recordedName: 'eth2' })
    expect(n.message).toBe(`eth2 (bus ${BUS}) left the host (udev); will be given back as eth2`)
    expect(r.nics).toEqual([{ name: 'eth2', bus: BUS, devPort: null, permAddr: null, mac: null, ifindex: 3, driver: null, mtu: null, up: null, recordedAt: NOW, away: { since: NOW, via: 'udev', leftAs: 'eth2' } }])
  })

  it('keeps what it read live before the move (hook, assign), and where it went', () => {
    const live: Link = {
      ifindex: 3,
      name: 'eth2',
      altnames: ['enp0s3'],
      ifalias: null,
      driver: 'igb',
      kind: null,
      up: true,
      mtu: 9000,
      bus: BUS,
      devPort: 0,
      permAddr: '00:1b:21:00:00:03',
      mac: '00:1b:21:00:00:03',
    }
    const r = reg()
    noteDeparture(r, dep('eth2', { via: 'hook', devPort: 0, permAddr: live.permAddr, mac: live.mac, live, container: { id: 'c1', name: 'web', pid: 42 }, insideName: 'net0', netnsInode: 4026532456 }), NOW)
    expect(r.nics).toEqual([
      {
        name: 'eth2',
        bus: BUS,
        devPort: 0,
        permAddr: '00:1b:21:00:00:03',
        mac: '00:1b:21:00:00:03',
        ifindex: 3,
        driver: 'igb',
        mtu: 9000,
        up: true,
        recordedAt: NOW,
        away: { since: NOW, via: 'hook', leftAs: 'eth2', container: { id: 'c1', name: 'web', pid: 42 }, insideName: 'net0', netnsInode: 4026532456 },
      },
    ])
  })

  it('keeps the recorded name of a NIC that leaves under its recorded name, and what it knew of it', () => {
    const r = reg(entry('eth2'))
    const n = noteDeparture(r, dep('eth2'), NOW)
    expect(n).toMatchObject({ changed: true, recordedName: 'eth2' })
    expect(r.nics).toEqual([{ ...entry('eth2'), away: { since: NOW, via: 'udev', leftAs: 'eth2' } }])
  })

  it('never writes down a name whose bytes were lost (U+FFFD from a name that is not UTF-8): a recorded NIC keeps its name, an unrecorded one is not recorded', () => {
    const lost = 'q\uFFFD\uFFFDz'
    const r = reg(entry('eth2'))
    expect(noteDeparture(r, dep(lost), NOW)).toMatchObject({ changed: true, recordedName: 'eth2' })
    expect(r.nics).toEqual([{ ...entry('eth2'), away: { since: NOW, via: 'udev', leftAs: lost } }])
    const empty = reg()
    const n = noteDeparture(empty, dep(lost), NOW)
    expect(n).toMatchObject({ changed: false, recordedName: null })
    expect(n.message).toMatch(/not UTF-8 and was never recorded/)
    expect(empty.nics).toEqual([])
  })

  it('keeps the recorded name of a NIC that leaves as devN or under a temporary name', () => {
    for (const name of ['dev3', 'dev17', 'nbtmp3', 'nbt3x1']) {
      const r = reg(entry('eth2'))
      const n = noteDeparture(r, dep(name), NOW)
      expect(n).toMatchObject({ changed: true, recordedName: 'eth2' })
      expect(n.message).toContain(`(left as ${name}, keeping the recorded name)`)
      expect(r.nics).toEqual([{ ...entry('eth2'), away: { since: NOW, via: 'udev', leftAs: name } }])
    }
  })

  it('records nothing for a NIC it never knew that leaves as devN', () => {
    for (const name of ['dev3', 'nbtmp3']) {
      const r = reg(entry('eth0', { bus: '0000:00:09.0' }))
      const before = clone(r)
      const n = noteDeparture(r, dep(name), NOW)
      expect(n).toMatchObject({ changed: false, recordedName: null })
      expect(n.message).toMatch(/fallback name .* never recorded: nothing to give back/)
      expect(r).toEqual(before)
    }
  })

  it('records the new name of a NIC the admin renamed on the host since it was recorded', () => {
    const r = reg(entry('eth2'))
    const n = noteDeparture(r, dep('lan0'), NOW)
    expect(n).toMatchObject({ changed: true, recordedName: 'lan0' })
    expect(n.message).toContain('renamed since it was recorded as eth2: will be given back as lan0')
    expect(r.nics).toEqual([{ ...entry('lan0'), recordedAt: NOW, away: { since: NOW, via: 'udev', leftAs: 'lan0' } }])
  })

  it('forgets, and says so, another NIC recorded under the name the renamed NIC leaves with', () => {
    const other = entry('lan0', { bus: '0000:00:09.0', ifindex: 9 })
    const r = reg(entry('eth2'), other)
    const n = noteDeparture(r, dep('lan0'), NOW)
    expect(n.message).toContain('forgot lan0 (bus 0000:00:09.0), which had the same name')
    expect(r.nics.map((e) => [e.name, e.bus])).toEqual([['lan0', BUS]])
  })

  it('keeps the recorded name of a NIC that is away and leaves again under another name', () => {
    // Came back from container A as eth9 (its name there, free on the host),
    // was not restored, and now goes to container B still called eth9.
    const away = { since: T0, via: 'udev' as const, leftAs: 'eth2' }
    const r = reg(entry('eth2', { away }))
    const n = noteDeparture(r, dep('eth9', { via: 'hook', container: { name: 'b' } }), NOW)
    expect(n).toMatchObject({ changed: true, recordedName: 'eth2' })
    expect(r.nics).toEqual([{ ...entry('eth2'), away: { since: NOW, via: 'hook', leftAs: 'eth9', container: { name: 'b' } } }])
  })

  it('recognises the NIC by bus even when its MAC changed, and never a veth by a copied MAC', () => {
    const r = reg(entry('eth2'))
    noteDeparture(r, dep('dev3', { mac: '02:00:00:00:00:99' }), NOW)
    expect(r.nics[0]!.name).toBe('eth2')
    const v = reg(entry('eth2'))
    const n = noteDeparture(v, dep('veth0', { bus: null, mac: '52:54:00:00:00:03', ifindex: 30 }), NOW)
    expect(n.recordedName).toBe('veth0')
    expect(v.nics.map((e) => [e.name, e.bus])).toEqual([
      ['eth2', BUS],
      ['veth0', null],
    ])
  })

  describe('a two-port function (the remove event has no dev_port)', () => {
    const ports = () => reg(entry('eth0', { devPort: 0, ifindex: 4 }), entry('eth1', { devPort: 1, ifindex: 5 }))

    it('tells the ports apart by ifindex', () => {
      const r = ports()
      const n = noteDeparture(r, dep('dev5', { ifindex: 5 }), NOW)
      expect(n.recordedName).toBe('eth1')
      expect(r.nics.map((e) => [e.name, e.devPort, e.away?.leftAs ?? null])).toEqual([
        ['eth0', 0, null],
        ['eth1', 1, 'dev5'],
      ])
    })

    it('tells the ports apart by name', () => {
      const r = ports()
      const n = noteDeparture(r, dep('eth0', { ifindex: 40 }), NOW)
      expect(n.recordedName).toBe('eth0')
      expect(r.nics.map((e) => [e.name, e.devPort, e.away?.leftAs ?? null])).toEqual([
        ['eth0', 0, 'eth0'],
        ['eth1', 1, null],
      ])
    })

    it('forgets neither port when it cannot tell which one left', () => {
      const r = ports()
      const before = clone(r)
      const n = noteDeparture(r, dep('eth9', { ifindex: 40 }), NOW)
      expect(n).toMatchObject({ changed: false, recordedName: null })
      expect(n.message).toContain('2 recorded NICs match it (eth0, eth1)')
      expect(r).toEqual(before)
    })
  })
})

describe('noteDeparture after assign or the OCI hook recorded the departure', () => {
  const byAssign = { since: T0, via: 'assign' as const, leftAs: 'ens3', container: { id: 'abc123', name: 'c1' }, insideName: 'eth0' }
  it('keeps the fuller record when udev reports the same departure from the event alone', () => {
    const r = reg(entry('ens3', { away: byAssign }))
    const before = clone(r)
    const n = noteDeparture(r, dep('ens3'), NOW)
    expect(n).toMatchObject({ changed: false, recordedName: 'ens3' })
    expect(r).toEqual(before)
  })
  it('still records a later departure under another name (it came back misnamed and left again)', () => {
    const r = reg(entry('ens3', { away: byAssign }))
    const n = noteDeparture(r, dep('eth0'), NOW)
    expect(n.changed).toBe(true)
    expect(r.nics[0]).toMatchObject({ name: 'ens3', away: { via: 'udev', leftAs: 'eth0' } })
  })
  it('a second departure by a hook, with its own container, replaces the first', () => {
    const r = reg(entry('ens3', { away: byAssign }))
    noteDeparture(r, dep('ens3', { via: 'hook', container: { id: 'def456' } }), NOW)
    expect(r.nics[0]!.away).toMatchObject({ via: 'hook', container: { id: 'def456' } })
  })
})

// Issue 16: sriov-cni v2.x renames a VF on the host (enp1s0v0 -> temp_27)
// and moves it into the pod at once. The rename is part of the hand-over.
describe('noteDeparture after a rename on the host (a mover hand-over, or an admin rename that stays)', () => {
  const handOver = (msBefore: number) => [{ from: 'eth2', to: 'temp_3', msBefore }]

  it('a NIC renamed on the host just before it left keeps its host name; the record says the name it left with', () => {
    const r = reg(entry('eth2'))
    const n = noteDeparture(r, dep('temp_3', { handOver: handOver(12) }), NOW)
    expect(n).toMatchObject({ changed: true, recordedName: 'eth2' })
    expect(n.message).toBe(`eth2 (bus ${BUS}) left the host (udev) (renamed eth2 -> temp_3 on the host 12 ms before it left: part of its hand-over, not a new host name)`)
    expect(r.nics).toEqual([{ ...entry('eth2'), away: { since: NOW, via: 'udev', leftAs: 'temp_3' } }])
  })

  it('the same for a NIC never recorded: it is recorded under the name it had before the hand-over', () => {
    const r = reg()
    const n = noteDeparture(r, dep('temp_3', { handOver: handOver(5) }), NOW)
    expect(n).toMatchObject({ changed: true, recordedName: 'eth2' })
    expect(r.nics[0]).toMatchObject({ name: 'eth2', away: { leftAs: 'temp_3' } })
  })

  it('a NIC that leaves under its recorded name just after nicback renamed it home (net1 -> eth2) keeps that name', () => {
    const r = reg(entry('eth2'))
    const n = noteDeparture(r, dep('eth2', { handOver: [{ from: 'net1', to: 'eth2', msBefore: 1264 }] }), NOW)
    expect(n).toMatchObject({ changed: true, recordedName: 'eth2' })
    expect(n.message).toBe(`eth2 (bus ${BUS}) left the host (udev)`)
    expect(r.nics[0]).toMatchObject({ name: 'eth2', away: { leftAs: 'eth2' } })
  })

  it("an admin's rename that stays (no hand-over: renamed long before) is the name it is given back", () => {
    const r = reg(entry('eth2'))
    const n = noteDeparture(r, dep('storage0'), NOW)
    expect(n).toMatchObject({ changed: true, recordedName: 'storage0' })
    expect(r.nics[0]).toMatchObject({ name: 'storage0', away: { leftAs: 'storage0' } })
  })

  it('a NIC taken again while it is back as devN (renamed devN -> temp_3, then gone) keeps its recorded name', () => {
    const r = reg(entry('eth2', { away: { since: T0, via: 'udev', leftAs: 'eth2' } }))
    const n = noteDeparture(r, dep('temp_3', { handOver: [{ from: 'dev3', to: 'temp_3', msBefore: 4 }] }), NOW)
    expect(n).toMatchObject({ changed: true, recordedName: 'eth2' })
    expect(r.nics[0]).toMatchObject({ name: 'eth2', away: { leftAs: 'temp_3' } })
  })
})

describe('departureByName', () => {
  const to = { via: 'hook' as const, container: { id: 'c1' }, insideName: 'net0', netnsInode: 7 }
  it('knows a NIC by the device while it is on the host, else by its record, else not', () => {
    const live: Link = {
      ifindex: 3,
      name: 'eth2',
      altnames: [],
      ifalias: null,
      driver: 'igb',
      kind: null,
      up: true,
      mtu: 9000,
      bus: BUS,
      devPort: 0,
      permAddr: '00:1b:21:00:00:03',
      mac: '00:1b:21:00:00:03',
    }
    const recorded = entry('eth2', { ifindex: 9, devPort: 1 })
    expect(departureByName('eth2', [live], [recorded], to)).toEqual({ name: 'eth2', ifindex: 3, bus: BUS, devPort: 0, permAddr: live.permAddr, mac: live.mac, live, ...to })
    expect(departureByName('eth2', [], [recorded], to)).toEqual({ name: 'eth2', ifindex: 9, bus: BUS, devPort: 1, permAddr: null, mac: '52:54:00:00:00:03', ...to })
    expect(departureByName('eth3', [live], [recorded], to)).toBeNull()
  })
})
