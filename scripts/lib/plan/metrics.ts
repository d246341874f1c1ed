// What `nicback metrics` shows, as pure functions: the Prometheus text
// exposition format (version 0.0.4, what node_exporter's textfile collector
// and every Prometheus server read) of the NICs' states now (gauges, from
// statusRows) and of the restore counters (state/counters.ts); and what one
// restore run adds to those counters. Written by hand, not with prom-client:
// its import alone costs more than a node start, and its histograms cannot
// be loaded from counts kept in a file.
import { BUCKETS, CAUSES, FOUND_BY, type Cause, type Counters, type RunDelta } from '../state/counters.js'
import type { NameSource } from '../types.js'
import type { ProcessFacts } from '../facts/process.js'
import type { Outcome } from './planner.js'
import type { State, StatusRow } from './status.js'

/** The states of `nicback status`, each a value of the gauge's state label. */
export const STATES: readonly State[] = ['home', 'away', 'gone', 'returned_misnamed', 'conflict', 'unrecorded']

/** Pure: the cause label of a NIC left misnamed: the planner's cause of a
 *  conflict (plan/planner.ts Decision.cause), never read from its reason, a
 *  sentence holding names a container chose. Always one of CAUSES. */
export function conflictCause(outcome: Outcome, cause: Cause | undefined): Cause {
  if (outcome === 'ambiguous') return 'ambiguous'
  return cause !== undefined && (CAUSES as readonly string[]).includes(cause) ? cause : 'other'
}

/** One NIC of a run's report (moments/return.ts NicResult). */
export interface RunNic {
  outcome: Outcome
  reason: string
  /** The planner's cause of a conflict. */
  cause?: Cause
  home: boolean
  ifindex: number | null
  /** Where its name came from (absent: the registry). */
  source?: NameSource
}

/** Pure: what a (not dry) restore run adds to the counters. `seconds` gives
 *  the return-to-name time of a NIC it brought home, or null if unknown. */
export function runDelta(nics: readonly RunNic[], applyFailed: boolean, seconds: (n: RunNic) => number | null): RunDelta {
  const d: RunDelta = { done: 0, failed: 0, conflicts: {}, run: null, seconds: [] }
  for (const n of nics) {
    if (n.home && n.source !== undefined && n.source !== 'registry') d.found = { ...d.found, [n.source]: (d.found?.[n.source] ?? 0) + 1 }
    if (n.outcome === 'restore') {
      if (n.home) {
        d.done += 1
        const s = seconds(n)
        if (s !== null) d.seconds.push(s)
      } else d.failed += 1
    } else if (n.outcome === 'conflict' || n.outcome === 'ambiguous') {
      const c = conflictCause(n.outcome, n.cause)
      d.conflicts[c] = (d.conflicts[c] ?? 0) + 1
    }
  }
  if (applyFailed) d.run = 'failed'
  else if (d.done > 0 || d.failed > 0) d.run = 'ok'
  return d
}

/** A label value as the format wants it: backslash, double quote and line
 *  feed escaped. (nicback's label values are closed sets; this is the rule
 *  all the same.) */
export function escapeLabel(s: string): string {
  return s.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))
}

/** HELP text: backslash and line feed escaped. */
function escapeHelp(s: string): string {
  return s.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'))
}

/** A sample value: Go's float syntax (+Inf, -Inf, NaN, decimal). */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return '+Inf'
  if (n === -Infinity) return '-Inf'
  return String(n)
}

type Sample = [suffix: string, labels: Record<string, string>, value: number]

function family(name: string, type: 'gauge' | 'counter' | 'histogram', help: string, samples: Sample[]): string {
  const lines = [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`]
  for (const [suffix, labels, value] of samples) {
    const l = Object.entries(labels).map(([k, val]) => `${k}="${escapeLabel(val)}"`)
    lines.push(`${name}${suffix}${l.length > 0 ? `{${l.join(',')}}` : ''} ${formatValue(value)}`)
  }
  return lines.join('\n')
}

/** Pure: the exposition, from the status rows now and the counters. */
export function formatMetrics(rows: readonly StatusRow[], c: Counters): string {
  const byState = new Map<State, number>(STATES.map((s) => [s, 0]))
  for (const r of rows) byState.set(r.state, (byState.get(r.state) ?? 0) + 1)
  const h = c.returnToName
  return (
    [
      family('nicback_nics_recorded', 'gauge', 'NICs in the registry (recorded host names).', [['', {}, rows.filter((r) => r.recordedName !== null).length]]),
      family(
        'nicback_nics',
        'gauge',
        'NICs by state now, as "nicback status" shows them: home, away (in a container, recorded or written down with no name when nicback was installed), gone (no device at its bus position any more), returned_misnamed (back under another name, or back with no record and a name found for it), conflict (back, but its name cannot be given back), unrecorded (on a bus, never recorded, no name found).',
        STATES.map((s) => ['', { state: s }, byState.get(s) ?? 0]),
      ),
      family('nicback_restores_total', 'counter', 'NICs a restore run renamed home: confirmed by reading the kernel back (done), or not (failed).', [
        ['', { result: 'done' }, c.restores.done],
        ['', { result: 'failed' }, c.restores.failed],
      ]),
      family('nicback_restore_runs_total', 'counter', 'Restore runs that changed something: every step done (ok), or a step the kernel refused (failed; its NICs count in nicback_restores_total{result="failed"}).', [
        ['', { result: 'ok' }, c.runs.ok],
        ['', { result: 'failed' }, c.runs.failed],
      ]),
      family(
        'nicback_conflicts_total',
        'counter',
        'NICs a restore run could not plan home, by cause (counted again by each run that tries).',
        CAUSES.map((cause) => ['', { cause }, c.conflicts[cause]]),
      ),
      family(
        'nicback_names_found_total',
        'counter',
        "NICs back with no record (they left before nicback was there) that a restore run brought home under a name found for them, by source: policy (udev's naming policy for the bus position) or sriov-cni (its cache of the VF's host name).",
        FOUND_BY.map((source): Sample => ['', { source }, c.found[source]]),
      ),
      family('nicback_return_to_name_seconds', 'histogram', "Seconds from a NIC's return to the host (udev's USEC_INITIALIZED) to its recorded name restored and read back.", [
        ...BUCKETS.map((b, i): Sample => ['_bucket', { le: formatValue(b) }, h.counts[i] ?? 0]),
        ['_bucket', { le: '+Inf' }, h.count],
        ['_sum', {}, h.sum],
        ['_count', {}, h.count],
      ]),
    ].join('\n') + '\n'
  )
}

/** What only the resident agent knows of itself. */
export interface AgentFacts {
  version: string
  /** The node it serves (NICBACK_NODE_NAME, else the host name). */
  node: string
  ready: boolean
  /** Unix seconds of the last restore run that ran to its end (the
   *  start-up reconcile first); null before the first. */
  lastReconcileSeconds: number | null
  /** udev events it acted on, by action. */
  events: { add: number; move: number; remove: number }
  /** Restore runs it led: every NIC it could bring home is home (ok), or not. */
  runs: { ok: number; failed: number }
  process: ProcessFacts
}

/** Pure: the agent's own families, after formatMetrics's: build info,
 *  readiness, its events and runs, and the standard process_* metrics. */
export function formatAgentMetrics(a: AgentFacts): string {
  const p = a.process
  return (
    [
      family('nicback_build_info', 'gauge', 'Always 1: the version of nicback serving these metrics, and the node it serves.', [['', { version: a.version, node: a.node }, 1]]),
      family('nicback_agent_ready', 'gauge', '1 when /readyz answers 200 (restores can run: the start-up reconcile succeeded, the state dir and registry are accepted, the udev monitor runs), else 0.', [['', {}, a.ready ? 1 : 0]]),
      family(
        'nicback_last_reconcile_success_timestamp_seconds',
        'gauge',
        'Unix time of the last restore run of the agent that ran to its end (the start-up reconcile first); absent before it.',
        a.lastReconcileSeconds === null ? [] : [['', {}, a.lastReconcileSeconds]],
      ),
      family(
        'nicback_agent_events_total',
        'counter',
        'udev events of NICs on a bus the agent acted on, by action.',
        (['add', 'move', 'remove'] as const).map((k): Sample => ['', { action: k }, a.events[k]]),
      ),
      family('nicback_agent_runs_total', 'counter', 'Restore runs the agent led: ok (every NIC it could bring home is home) or failed.', [
        ['', { result: 'ok' }, a.runs.ok],
        ['', { result: 'failed' }, a.runs.failed],
      ]),
      family('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.', [['', {}, p.cpuUserSeconds + p.cpuSystemSeconds]]),
      family('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', [['', {}, p.residentBytes]]),
      family('process_virtual_memory_bytes', 'gauge', 'Virtual memory size in bytes.', [['', {}, p.virtualBytes]]),
      family('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.', [['', {}, p.startTimeSeconds]]),
      family('process_open_fds', 'gauge', 'Number of open file descriptors.', [['', {}, p.openFds]]),
      family('process_max_fds', 'gauge', 'Maximum number of open file descriptors.', p.maxFds === null ? [] : [['', {}, p.maxFds]]),
    ].join('\n') + '\n'
  )
}

/** Pure: the same numbers as JSON (`nicback metrics --json`). */
export function metricsJson(rows: readonly StatusRow[], c: Counters) {
  const nics = Object.fromEntries(STATES.map((s) => [s, rows.filter((r) => r.state === s).length])) as Record<State, number>
  return {
    nicsRecorded: rows.filter((r) => r.recordedName !== null).length,
    nics,
    restores: { ...c.restores },
    conflicts: { ...c.conflicts },
    runs: { ...c.runs },
    namesFound: { ...c.found },
    returnToNameSeconds: {
      // An array: object keys that look like integers ("1", "5") would be reordered.
      buckets: [...BUCKETS.map((b, i) => ({ le: formatValue(b), count: c.returnToName.counts[i] ?? 0 })), { le: '+Inf', count: c.returnToName.count }],
      sum: c.returnToName.sum,
      count: c.returnToName.count,
    },
  }
}
