import { parse, printJson, table, type Command } from '../lib/cli/cli.js'
import { identityKey } from '../lib/facts/identity.js'
import { readLinks } from '../lib/facts/links.js'
import { statusRows } from '../lib/plan/status.js'
import { loadRegistry } from '../lib/state/registry.js'

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
