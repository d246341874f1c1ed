import { existsSync, lstatSync, statSync } from 'node:fs'
import { nicbackError } from '../lib/system/errors.js'
import { join, resolve } from 'node:path'
import { parse, printJson, type Command, type Options } from '../lib/cli/cli.js'
import { readMetrics } from '../lib/moments/metrics.js'
import { formatMetrics, metricsJson } from '../lib/plan/metrics.js'
import { writeFileDurably } from '../lib/system/atomic.js'

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

/** Why root must not write `file` in `dir` (the textfile), or null. Root
 *  never writes through what is there (writeFileDurably), but a directory
 *  someone else can write is theirs to fill: refused unless sticky, and in a
 *  sticky one only a file root made is replaced. */
export function textfileProblem(dir: string, file: string, uid = process.geteuid?.() ?? 0): string | null {
  const st = statSync(dir)
  const mode = (st.mode & 0o7777).toString(8).padStart(4, '0')
  const others = st.uid !== uid ? `it belongs to uid ${st.uid}` : (st.mode & 0o022) !== 0 ? `others can write it (mode ${mode})` : null
  if (others === null) return null
  const fix = `give a directory root owns that no one else can write (e.g. "install -d -o root -m 0755 DIR" and point node_exporter's --collector.textfile.directory at it)`
  if (st.uid !== uid || (st.mode & 0o1000) === 0) return `refusing ${dir}: ${others} and it is not sticky, so whoever can write it could put anything where nicback writes; ${fix}`
  let at
  try {
    at = lstatSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  if (!at.isFile()) return `refusing ${file}: it is not a regular file (${at.isSymbolicLink() ? 'a symlink' : 'a special file'}) in the sticky directory ${dir}, which others can write; remove it after checking who put it there`
  if (at.uid !== uid) return `refusing ${file}: it belongs to uid ${at.uid}, not root, in the sticky directory ${dir}, which others can write; remove it after checking who put it there`
  return null
}

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
    const { rows, counters } = readMetrics()
    // A temporary name that does not end in .prom: the collector never reads
    // half a file. Never through a link at the destination (atomic.ts).
    if (target !== null) writeFileDurably(target, formatMetrics(rows, counters), 0o644)
    if (values.json) printJson(metricsJson(rows, counters))
    else if (target === null) process.stdout.write(formatMetrics(rows, counters))
    return 0
  },
} satisfies Command
