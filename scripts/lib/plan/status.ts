// What `nicback status` shows, as a pure function of the facts and the
// registry: the planner's decision for every recorded NIC, in an admin's words.
import { matchNics } from '../facts/identity.js'
import type { Keepers } from '../facts/keepers.js'
import { sameNic } from '../facts/identity.js'
import type { Away, Entry, Link, NameSource, UnnamedNic } from '../types.js'
import { ifaliasHint, looksReturned, type Found } from './origin.js'
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
  /** Where the name nicback gives it comes from: the registry (seen on the
   *  host), or for a NIC with no record, the source it is found in; null
   *  when there is none. */
  source: NameSource | null
  /** For a NIC that is away: what keeps its network namespace alive (or why
   *  that netns cannot be found). Null for every other state. */
  keepers: Keepers | null
}

const STATE = { home: 'home', away: 'away', restore: 'returned_misnamed', skipped: 'returned_misnamed', conflict: 'conflict', ambiguous: 'conflict' } as const

/** What status knows of NICs with no record: those seen away at install,
 *  and the name found for a device (plan/origin.ts findHostName). */
export interface NoRecord {
  unnamed: readonly UnnamedNic[]
  find: (l: Link) => Found
}

const NONE: NoRecord = { unnamed: [], find: () => ({ name: null, why: 'not looked for', fix: '' }) }

/** Pure: the status rows for these facts. `keepersOf` tells, for the NICs
 *  that are away, what keeps where they went alive (facts/keepers.ts);
 *  `busPresent` whether a bus position has a device now (facts/links.ts):
 *  a NIC away whose bus position is empty is gone. `noRecord`: the NICs
 *  with no record and the names found for them. */
export function statusRows(links: Link[], entries: Entry[], keepersOf?: (aways: Away[]) => Keepers[], busPresent: (bus: string) => boolean = () => true, noRecord: NoRecord = NONE): StatusRow[] {
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
        source: e.foundBy ?? 'registry',
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
      source: e.foundBy ?? 'registry',
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
    rows.push(noRecordRow(l, links, noRecord))
  }
  // Seen away at install, not back yet: where they are, and what keeps them.
  const unnamedAway = noRecord.unnamed.filter((u) => !links.some((l) => sameNic(u, l)))
  const unnamedRows = unnamedAway.map((u): StatusRow => {
    const gone = u.bus !== null && !busPresent(u.bus)
    return {
      recordedName: null,
      name: null,
      state: gone ? 'gone' : 'away',
      identity: { bus: u.bus, devPort: u.devPort, permAddr: u.permAddr, mac: u.mac },
      container: null,
      away: null,
      detail: gone
        ? `seen away (${u.where}) when nicback was installed; no device at bus ${u.bus} any more: if one comes back there it is named; the boot unit ("nicback record --boot") drops the note`
        : `away since before nicback was installed (${u.where}${u.insideName !== null ? `, named ${u.insideName} there` : ''}): its host name was never seen, so it gets the name udev's naming policy or sriov-cni's cache gives it when it comes back`,
      source: null,
      keepers: null,
    }
  })
  if (keepersOf !== undefined) {
    const shown = unnamedRows.flatMap((r, i) => (r.state === 'away' ? [{ row: r, inode: unnamedAway[i]!.netnsInode, since: unnamedAway[i]!.seenAt }] : []))
    if (shown.length > 0) keepersOf(shown.map((s) => ({ since: s.since, via: 'udev', leftAs: '-', netnsInode: s.inode }))).forEach((k, i) => (shown[i]!.row.keepers = k))
  }
  return [...rows, ...unnamedRows]
}

/** The row of a device on a bus that has no record: back with no record
 *  and a name found for it (returned_misnamed), or not (unrecorded, and
 *  why, and what to run). */
function noRecordRow(l: Link, links: readonly Link[], noRecord: NoRecord): StatusRow {
  const returned = looksReturned(l, noRecord.unnamed)
  const f = returned ? noRecord.find(l) : null
  const hint = returned ? ifaliasHint(l, links) : null
  const row = (state: State, detail: string, source: NameSource | null): StatusRow => ({
    recordedName: null,
    name: l.name,
    state,
    identity: { bus: l.bus, devPort: l.devPort, permAddr: l.permAddr, mac: l.mac },
    container: null,
    away: null,
    detail,
    source,
    keepers: null,
  })
  if (f === null) return row('unrecorded', `run "nicback record ${l.name}"`, null)
  if (f.name === null) return row('unrecorded', `back with no record, and nicback has no name for it: ${f.why}${hint !== null ? `; ${hint}` : ''}; ${f.fix}`, null)
  if (f.name === l.name) return row('unrecorded', `home under the name ${f.how} gives it: "nicback restore" records it`, f.foundBy)
  return row('returned_misnamed', `back with no record; ${f.how} names it ${f.name}: run "nicback restore ${l.name}"`, f.foundBy)
}
