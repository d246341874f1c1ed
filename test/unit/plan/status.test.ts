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
    const rows = statusRows(
      [link('eth0')],
      [
        entry('eth0'),
        entry('eth1', { mac: '02:00:00:00:00:02', away: away('eth1', { netnsInode: 11 }) }),
        entry('eth2', { mac: '02:00:00:00:00:03', away: away('eth2', { netnsInode: 12 }) }),
      ],
      (a) => {
        asked.push(a)
        return a.map((x) => held(x.netnsInode!))
      },
    )
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
