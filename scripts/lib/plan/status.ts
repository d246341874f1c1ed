// What `nicback status` shows, as a pure function of the facts and the
// registry: the planner's decision for every recorded NIC, in an admin's words.
import { matchNics } from '../facts/identity.js'
import type { Keepers } from '../facts/keepers.js'
import type { Away, Entry, Link } from '../types.js'
import { planRestore } from './planner.js'

/** away: in a namespace that is alive; gone: no device at its bus position
 *  any more (a VF removed with sriov_numvfs, a card unplugged); it is given
 *  its name back if one comes back there. */
export type State = 'home' | 'away' | 'gone' | 'returned_misnamed' | 'conflict' | 'unrecorded'

export interface StatusRow {
  recordedName: string | null
  name: string | null
  state: State
  identity: { bus: string | null; devPort: number | null; permAddr: string | null; mac: string | null }
  container: Away['container'] | null
  away: Away | null
  detail: string
  /** For a NIC that is away: what keeps its network namespace alive (or why
   *  that netns cannot be found). Null for every other state. */
  keepers: Keepers | null
}

const STATE = { home: 'home', away: 'away', restore: 'returned_misnamed', skipped: 'returned_misnamed', conflict: 'conflict', ambiguous: 'conflict' } as const

/** Pure: the status rows for these facts. `keepersOf` tells, for the NICs
 *  that are away, what keeps where they went alive (facts/keepers.ts);
 *  `busPresent` whether a bus position has a device now (facts/links.ts):
 *  a NIC away whose bus position is empty is gone. */
export function statusRows(links: Link[], entries: Entry[], keepersOf?: (aways: Away[]) => Keepers[], busPresent: (bus: string) => boolean = () => true): StatusRow[] {
  const plan = planRestore(links, entries, { want: () => true, renameWhileUp: true })
  const { found } = matchNics(entries, links)
  const rows: StatusRow[] = entries.map((e, i) => {
    const d = plan.decisions[i]!
    const link = found.get(e)
    if (d.outcome === 'away' && e.bus !== null && !busPresent(e.bus)) {
      return {
        recordedName: e.name,
        name: null,
        state: 'gone',
        identity: { bus: e.bus, devPort: e.devPort, permAddr: e.permAddr, mac: e.mac },
        container: e.away?.container ?? null,
        away: e.away,
        detail: `no device at bus ${e.bus} any more (a VF removed, a card unplugged): if one comes back there it gets its name back; "nicback forget ${e.name}" drops the record`,
        keepers: null,
      }
    }
    return {
      recordedName: e.name,
      name: link?.name ?? null,
      state: STATE[d.outcome],
      identity: { bus: e.bus, devPort: e.devPort, permAddr: e.permAddr, mac: link?.mac ?? e.mac },
      container: e.away?.container ?? null,
      away: e.away,
      detail: d.outcome === 'home' ? '' : d.outcome === 'restore' || d.outcome === 'skipped' ? `run "nicback restore ${e.name}"` : d.reason,
      keepers: null,
    }
  })
  const away = rows.flatMap((r, i) => (r.state === 'away' ? [{ row: r, away: entries[i]!.away }] : []))
  if (keepersOf !== undefined && away.length > 0) {
    const known = away.filter((a) => a.away !== null)
    const found = known.length > 0 ? keepersOf(known.map((a) => a.away!)) : []
    known.forEach((a, i) => (a.row.keepers = found[i]!))
    for (const a of away) {
      if (a.away === null) a.row.keepers = { inode: null, processes: [], mounts: [], total: 0, reason: 'nicback did not see it leave, so it cannot tell where it went', unreadable: 0 }
    }
  }
  const recorded = new Set(found.values())
  for (const l of links) {
    if (l.bus === null || recorded.has(l)) continue
    rows.push({
      recordedName: null,
      name: l.name,
      state: 'unrecorded',
      identity: { bus: l.bus, devPort: l.devPort, permAddr: l.permAddr, mac: l.mac },
      container: null,
      away: null,
      detail: `run "nicback record ${l.name}"`,
      keepers: null,
    })
  }
  return rows
}
