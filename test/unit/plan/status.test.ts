// status rows: keepers are asked for the away NICs only, and only once.
import { describe, expect, it } from 'vitest'
import type { Keepers } from '../../../scripts/lib/facts/keepers.js'
import { statusRows } from '../../../scripts/lib/plan/status.js'
import type { Away } from '../../../scripts/lib/types.js'
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
