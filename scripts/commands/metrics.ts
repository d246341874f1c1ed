import { existsSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse, printJson, type Command, type Options } from '../lib/cli/cli.js'
import { nicbackError } from '../lib/system/errors.js'
import { metricsNow, textfileProblem, writeTextfile } from '../lib/moments/metrics.js'

const help = `Usage: nicback metrics [--textfile DIR] [--json]

Prints nicback's metrics in the Prometheus text format:

  nicback_nics_recorded                NICs in the registry (gauge)
  nicback_nics{state}                  NICs by state now, as "nicback status"
                                       shows them: home, away, gone,
                                       returned_misnamed, conflict, unrecorded
  nicback_restores_total{result}       NICs renamed home: done, failed
  nicback_restore_runs_total{result}   runs that changed something: ok, failed
  nicback_conflicts_total{cause}       NICs left misnamed, by cause: name_held,
                                       altname_held, chain_blocked,
                                       duplicate_record, ambiguous,
                                       invalid_name, other
  nicback_return_to_name_seconds       histogram: from a NIC's return (udev's
                                       USEC_INITIALIZED) to its name restored

The gauges are read now from the registry and the links; the counters are
kept in counters.json beside the registry by every nicback process that
restores (udev events, hooks, "nicback restore").

  --textfile DIR  write DIR/nicback.prom atomically (temporary file in DIR,
                  then rename; mode 0644) for node_exporter's textfile
                  collector (--collector.textfile.directory=DIR), instead of
                  printing; DIR must exist. Nothing at DIR/nicback.prom is
                  ever opened or followed: the rename replaces it, a link
                  included. DIR must be root's and writable by no one else,
                  or sticky (mode 1777 and the like), where nicback.prom must
                  then be absent or a regular file root owns
  --json          print the same numbers as JSON (the file, if any, is still
                  written in the Prometheus format)

Read-only for nicback's state: takes no lock, changes nothing.
Exit status: 0 done, 1 failed (registry unreadable, DIR or nicback.prom
refused, file not written),
2 bad usage (DIR missing or not a directory).
`

const options = { textfile: { type: 'string' }, json: { type: 'boolean' } } satisfies Options

export default {
  summary: 'print the metrics in the Prometheus format, or write them for node_exporter',
  help,
  options,
  root: "it reads nicback's registry and counters, root's alone",
  main(argv) {
    const { values } = parse(argv, options, false)
    let target: string | null = null
    if (values.textfile !== undefined) {
      const dir = resolve(values.textfile)
      if (values.textfile === '' || !existsSync(dir)) throw nicbackError('usage', 'metrics', `--textfile ${values.textfile}: no such directory`, { fix: "create it, or give node_exporter's --collector.textfile.directory" })
      if (!statSync(dir).isDirectory()) throw nicbackError('usage', 'metrics', `--textfile ${values.textfile}: not a directory`)
      target = join(dir, 'nicback.prom')
      const problem = textfileProblem(dir, target)
      if (problem !== null) throw nicbackError('refused', 'write the textfile', problem)
    }
    const now = metricsNow()
    if (target !== null) writeTextfile(target, now.text)
    if (values.json) printJson(now.json())
    else if (target === null) process.stdout.write(now.text)
    return 0
  },
} satisfies Command
