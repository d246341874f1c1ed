import { parse, printJson, table, type Command } from '../lib/cli.js'
import { identityKey, matchNics } from '../lib/identity.js'
import { readLinks } from '../lib/links.js'
import { planRestore } from '../lib/planner.js'
import { loadRegistry } from '../lib/registry.js'
import type { Away, Entry, Link } from '../lib/types.js'

const help = `Usage: nicback status [--json]

One row per recorded NIC, and one per NIC on a bus that is not recorded yet:

  RECORDED  the host name nicback gives back
  NOW       its name now, "-" while it is away
  STATE     home | away | returned-misnamed | conflict | unrecorded
  IDENTITY  what it is recognised by (bus position, permanent MAC)
  WHERE     where it went and who holds it, or why it cannot be restored

--json prints an array of objects with recordedName, name, state, identity,
container and detail. Read-only: takes no lock, changes nothing.
`

export type State = 'home' | 'away' | 'returned-misnamed' | 'conflict' | 'unrecorded'

export interface StatusRow {
  recordedName: string | null
  name: string | null
  state: State
  identity: { bus: string | null; devPort: number | null; permAddr: string | null; mac: string | null }
  container: Away['container'] | null
  away: Away | null
  detail: string
}

const STATE = { home: 'home', away: 'away', restore: 'returned-misnamed', skipped: 'returned-misnamed', conflict: 'conflict', ambiguous: 'conflict' } as const

/** Pure: the status rows for these facts. */
export function statusRows(links: Link[], entries: Entry[]): StatusRow[] {
  const plan = planRestore(links, entries, { want: () => true, renameWhileUp: true })
  const { found } = matchNics(entries, links)
  const rows: StatusRow[] = entries.map((e, i) => {
    const d = plan.decisions[i]!
    const link = found.get(e)
    return {
      recordedName: e.name,
      name: link?.name ?? null,
      state: STATE[d.outcome],
      identity: { bus: e.bus, devPort: e.devPort, permAddr: e.permAddr, mac: link?.mac ?? e.mac },
      container: e.away?.container ?? null,
      away: e.away,
      detail: d.outcome === 'home' ? '' : d.outcome === 'restore' || d.outcome === 'skipped' ? `run "nicback restore ${e.name}"` : d.reason,
    }
  })
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
    })
  }
  return rows
}

export default {
  summary: 'show every NIC: recorded name, name now, state, who holds it',
  help,
  main(argv) {
    const { values } = parse(argv, {}, false)
    const rows = statusRows(readLinks(), loadRegistry().nics)
    if (values.json) {
      printJson(rows)
      return 0
    }
    if (rows.length === 0) {
      process.stdout.write('No NICs recorded and none on a bus. Record one with "nicback record IFACE".\n')
      return 0
    }
    process.stdout.write(
      table([
        ['RECORDED', 'NOW', 'STATE', 'IDENTITY', 'WHERE'],
        ...rows.map((r) => [r.recordedName ?? '-', r.name ?? '-', r.state, identityKey({ ...r.identity }), r.detail]),
      ]),
    )
    return 0
  },
} satisfies Command
