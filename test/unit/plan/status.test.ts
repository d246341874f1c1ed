// status rows: keepers are asked for the away NICs only, and only once.
import { describe, expect, it } from 'vitest'
import type { Keepers } from '../../../scripts/lib/facts/keepers.js'
import { statusRows } from '../../../scripts/lib/plan/status.js'
import type { Found } from '../../../scripts/lib/plan/origin.js'
import type { Away, Link, UnnamedNic } from '../../../scripts/lib/types.js'
import { entry, link } from '../helpers.js'

const away = (leftAs: string, o: Partial<Away> = {}): Away => ({ since: 't', via: 'assign', leftAs, ...o })
const held = (inode: number): Keepers => ({ inode, processes: [{ pid: 9, command: 'sleep', container: null, pod: null }], mounts: [], total: 1, reason: null, unreadable: 0 })

describe('statusRows with keepers', () => {
  it('keepers for every away NIC (asked once, in order), null for the others', () => {
    const asked: Away[][] = []
    const rows = statusRows([link('eth0')], [entry('eth0'), entry('eth1', { mac: '02:00:00:00:00:02', away: away('eth1', { netnsInode: 11 }) }), entry('eth2', { mac: '02:00:00:00:00:03', away: away('eth2', { netnsInode: 12 }) })], (a) => {
      asked.push(a)
      return a.map((x) => held(x.netnsInode!))
    })
    expect(asked).toEqual([[away('eth1', { netnsInode: 11 }), away('eth2', { netnsInode: 12 })]])
    expect(rows.map((r) => [r.recordedName, r.state, r.keepers?.inode ?? null])).toEqual([
      ['eth0', 'home', null],
      ['eth1', 'away', 11],
      ['eth2', 'away', 12],
    ])
  })

  it('a NIC away that nicback did not see leave: a reason, nothing asked', () => {
    const rows = statusRows([], [entry('eth1')], () => {
      throw new Error('not asked')
    })
    expect(rows[0]).toMatchObject({ state: 'away', keepers: { inode: null, total: 0, reason: expect.stringMatching(/did not see it leave/) } })
  })

  it('without a reader, keepers stay null and nothing else changes', () => {
    const rows = statusRows([], [entry('eth1', { away: away('eth1') })])
    expect(rows[0]).toMatchObject({ state: 'away', keepers: null, detail: 'left as eth1 via assign at t' })
  })
})

describe('gone: no device at the bus position any more', () => {
  const VF = '0000:01:10.3'
  const vf = entry('enp1s0v3', { bus: VF, mac: '02:00:00:00:01:03', away: away('enp1s0v3') })
  it('away while its bus position has a device (in a live netns); gone when it has none, with no keeper asked', () => {
    const asked: Away[][] = []
    const keepers = (a: Away[]) => (asked.push(a), a.map(() => held(1)))
    expect(statusRows([], [vf], keepers, () => true)[0]).toMatchObject({ state: 'away' })
    const gone = statusRows([], [vf], keepers, (bus) => bus !== VF)[0]!
    expect(gone).toMatchObject({ state: 'gone', name: null, keepers: null, detail: expect.stringMatching(/no device at bus 0000:01:10\.3 any more.*nicback forget enp1s0v3/) })
    expect(asked).toHaveLength(1)
  })
  it('a VF created again at that bus position is a NIC back: returned_misnamed, to be renamed home', () => {
    const back = link('eth7', { bus: VF, ifindex: 40, mac: '02:00:00:00:09:09' })
    expect(statusRows([back], [vf], undefined, () => true)[0]).toMatchObject({ state: 'returned_misnamed', name: 'eth7' })
  })
})

describe('day one: NICs with no record (issue 20)', () => {
  const pci = (slot: number) => `0000:00:${slot.toString(16).padStart(2, '0')}.0`
  const nic = (slot: number, name: string, o: Partial<Link> = {}) => link(name, { ifindex: slot, bus: pci(slot), ...o })
  const unnamed = (slot: number): UnnamedNic => ({ bus: pci(slot), devPort: null, permAddr: null, mac: null, seenAt: 't0', netnsInode: 40 + slot, where: 'pid 7 (pause)', insideName: 'net1' })
  const found: Record<string, Found> = {
    dev3: { name: 'enp0s3', foundBy: 'policy', how: "udev's naming policy (policy:path)" },
    dev4: { name: null, why: 'no name anywhere', fix: 'if you know its host name, give it and record it: "ip link set dev dev4 name NAME && nicback record NAME"' },
    uplink0: { name: 'uplink0', foundBy: 'policy', how: "udev's naming policy (link-file)" },
  }
  const noRecord = { unnamed: [unnamed(5), unnamed(6), unnamed(8)], find: (l: Link) => found[l.name]! }

  it('back with a name found: returned_misnamed with its source; with none: why, the ifalias hint and the command; an ordinary unrecorded name: record it', () => {
    const rows = statusRows([nic(3, 'dev3'), nic(4, 'dev4', { ifalias: 'eth2' }), nic(5, 'uplink0'), nic(7, 'storage0')], [], undefined, () => true, noRecord)
    expect(rows.filter((r) => r.name !== null).map((r) => [r.name, r.state, r.source, r.detail])).toEqual([
      ['dev3', 'returned_misnamed', 'policy', `back with no record; udev's naming policy (policy:path) names it enp0s3: run "nicback restore dev3"`],
      [
        'dev4',
        'unrecorded',
        null,
        'back with no record, and nicback has no name for it: no name anywhere; its ifalias says "eth2" (the CNI host-device plugin keeps the host name there, but a container can set it: a hint, never acted on); if you know its host name, give it and record it: "ip link set dev dev4 name NAME && nicback record NAME"',
      ],
      ['uplink0', 'unrecorded', 'policy', `home under the name udev's naming policy (link-file) gives it: "nicback restore" records it`],
      ['storage0', 'unrecorded', null, 'run "nicback record storage0"'],
    ])
  })

  it('seen away at install and not back: away (with what keeps its namespace) or gone; no name, no source', () => {
    const asked: Away[][] = []
    const rows = statusRows(
      [nic(5, 'uplink0')],
      [],
      (a) => (asked.push(a), a.map((x) => held(x.netnsInode!))),
      (bus) => bus !== pci(8),
      noRecord,
    )
    const away = rows.filter((r) => r.name === null)
    expect(away.map((r) => [r.recordedName, r.state, r.source, r.identity.bus])).toEqual([
      [null, 'away', null, pci(6)],
      [null, 'gone', null, pci(8)],
    ])
    expect(away[0]!.detail).toBe("away since before nicback was installed (pid 7 (pause), named net1 there): its host name was never seen, so it gets the name udev's naming policy or sriov-cni's cache gives it when it comes back")
    expect(away[0]!.keepers).toEqual(held(46))
    expect(away[1]!.keepers).toBeNull()
    expect(asked.map((a) => a.map((x) => x.netnsInode))).toEqual([[46]])
  })

  it('a recorded row says registry, or where its name was found', () => {
    const rows = statusRows([nic(3, 'enp0s3'), nic(4, 'eth4')], [entry('enp0s3', { bus: pci(3), foundBy: 'policy' }), entry('eth4', { bus: pci(4) })])
    expect(rows.map((r) => [r.recordedName, r.source])).toEqual([
      ['enp0s3', 'policy'],
      ['eth4', 'registry'],
    ])
  })
})
