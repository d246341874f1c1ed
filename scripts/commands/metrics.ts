import { existsSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse, printJson, UsageError, type Command } from '../lib/cli/cli.js'
import { readMetrics } from '../lib/moments/metrics.js'
import { formatMetrics, metricsJson } from '../lib/plan/metrics.js'
import { writeFileDurably } from '../lib/system/atomic.js'

const help = `Usage: nicback metrics [--textfile DIR] [--json]

Prints nicback's metrics in the Prometheus text format:

  nicback_nics_recorded                NICs in the registry (gauge)
  nicback_nics{state}                  NICs by state now, as "nicback status"
                                       shows them: home, away,
                                       returned-misnamed, conflict, unrecorded
  nicback_restores_total{result}       NICs renamed home: done, failed
  nicback_conflicts_total{cause}       NICs left misnamed, by cause: name_held,
                                       altname_held, chain_blocked,
                                       duplicate_record, ambiguous,
                                       invalid_name, apply_failed, other
  nicback_return_to_name_seconds       histogram: from a NIC's return (udev's
                                       USEC_INITIALIZED) to its name restored

The gauges are read now from the registry and the links; the counters are
kept in counters.json beside the registry by every nicback process that
restores (udev events, hooks, "nicback restore").

  --textfile DIR  write DIR/nicback.prom atomically (temporary file in DIR,
                  then rename; mode 0644) for node_exporter's textfile
                  collector (--collector.textfile.directory=DIR), instead of
                  printing; DIR must exist
  --json          print the same numbers as JSON (the file, if any, is still
                  written in the Prometheus format)

Read-only for nicback's state: takes no lock, changes nothing.
Exit status: 0 done, 1 failed (registry unreadable, file not written),
2 bad usage (DIR missing or not a directory).
`

export default {
  summary: 'print the metrics in the Prometheus format, or write them for node_exporter',
  help,
  main(argv) {
    const { values } = parse(argv, { textfile: { type: 'string' } }, false)
    let target: string | null = null
    if (values.textfile !== undefined) {
      const dir = resolve(values.textfile)
      if (values.textfile === '' || !existsSync(dir)) throw new UsageError(`--textfile ${values.textfile}: no such directory; create it, or give node_exporter's --collector.textfile.directory`)
      if (!statSync(dir).isDirectory()) throw new UsageError(`--textfile ${values.textfile}: not a directory`)
      target = join(dir, 'nicback.prom')
    }
    const { rows, counters } = readMetrics()
    // A temporary name that does not end in .prom: the collector never reads half a file.
    if (target !== null) writeFileDurably(target, formatMetrics(rows, counters), 0o644)
    if (values.json) printJson(metricsJson(rows, counters))
    else if (target === null) process.stdout.write(formatMetrics(rows, counters))
    return 0
  },
} satisfies Command
