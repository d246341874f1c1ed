import { parse, printJson, say, type Command, type Options } from '../lib/cli/cli.js'
import { nicbackError } from '../lib/system/errors.js'
import { nicsForgotten } from '../lib/moments/record.js'
import { log } from '../lib/system/log.js'

const help = `Usage: nicback forget IFACE... [--json]

Removes these NICs (by recorded name) from the registry: nicback will no
longer give them their name back. Changes no device.
Exit status: 0 forgotten, 1 a name is not recorded, 2 bad usage.
`

const options = { json: { type: 'boolean' } } satisfies Options

export default {
  summary: 'stop managing a NIC (remove it from the registry)',
  help,
  options,
  args: 'iface',
  root: "it writes nicback's registry",
  main(argv) {
    const { values, positionals } = parse(argv, options)
    if (positionals.length === 0) throw nicbackError('usage', 'forget', 'name the NIC(s) to forget')
    const { forgotten, unknown } = nicsForgotten(positionals)
    if (values.json) printJson({ forgotten, unknown })
    else say(...forgotten.map((f) => `forgot ${f}`))
    for (const n of unknown) log.error(`${n} is not a recorded NIC (see "nicback status")`, { nic: n, cause: 'not a recorded NIC', fix: 'see "nicback status"' })
    return unknown.length > 0 ? 1 : 0
  },
} satisfies Command
