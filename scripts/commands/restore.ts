import { parse, printJson, say, table, type Command, type Options } from '../lib/cli/cli.js'
import { nicbackError } from '../lib/system/errors.js'
import { log } from '../lib/system/log.js'
import { nicReturns, type RestoreReport, type Selection } from '../lib/moments/return.js'

const help = `Usage: nicback restore [IFACE...] [--all] [--dry-run] [--json]

Gives returned NICs their recorded host names back, then their recorded MTU
and admin state. A NIC back with no record (devN, or written down as away
when nicback was installed; or named as IFACE) gets the name udev's naming
policy or sriov-cni's cache gives it, if no other device holds that name
and no recorded NIC has it; it is recorded once home. Plans every rename first (swaps and cycles go through a
temporary name, udev's altname on the wanted name is dropped), applies the
plan all or nothing, and reads the result back from the kernel.

  (no IFACE)   NICs seen leaving, or back as devN / a nicback temporary name
  IFACE...     these NICs, by recorded name or by the name they have now
               (one with no record: by the name it has now)
  --all        every recorded NIC present under another name
  --dry-run    print the plan, change nothing
  --json       print the report as JSON

A name held by a device nicback does not manage is never taken: that NIC is
reported as a conflict and left as it is.

Exit status: 0 when every NIC asked for is home, 1 otherwise (with reasons),
2 on bad usage.
`

function print(r: RestoreReport): void {
  if (r.steps.length > 0) say(`${r.dryRun ? 'Plan' : 'Done'}:`, ...r.steps.map((s, i) => `  ${i + 1}. ${s.description}`))
  const rows = r.nics.filter((n) => n.outcome !== 'home' || n.settings).map((n) => [n.name, n.was ?? '-', r.dryRun || !n.home ? n.outcome : 'home', n.reason])
  if (rows.length > 0) process.stdout.write(table([['NIC', 'WAS', 'RESULT', 'WHY'], ...rows]))
  if (rows.length === 0 && r.steps.length === 0 && r.errors.length === 0) process.stdout.write('Nothing to restore: every returned NIC is home.\n')
}

const options = { all: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } } satisfies Options

export default {
  summary: 'give returned NICs their host names back (by hand)',
  help,
  options,
  args: 'iface',
  root: "it reads nicback's registry, root's alone, and renames NICs",
  main(argv) {
    const { values, positionals } = parse(argv, options)
    if (values.all && positionals.length > 0) throw nicbackError('usage', 'restore', 'give IFACE names or --all, not both')
    const select: Selection = values.all ? { kind: 'all' } : positionals.length > 0 ? { kind: 'names', names: positionals } : { kind: 'returned' }
    const r = nicReturns({ select, dryRun: values['dry-run'] === true })
    if (values.json) printJson(r)
    else print(r)
    for (const e of r.errors) log.error(e, { cause: e })
    return r.ok ? 0 : 1
  },
} satisfies Command
