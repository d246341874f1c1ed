// The exposition (plan/metrics.ts), read back with a strict reader of the
// format (test/promtext.ts): names, types, HELP, every state and cause
// present, label values escaped; the cause of every kind of conflict the
// planner reports; what a run adds.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { conflictCause, formatAgentMetrics, escapeLabel, formatMetrics, formatValue, metricsJson, runDelta, STATES, type RunNic } from '../../../scripts/lib/plan/metrics.js'
import { planRestore, type PlanOptions } from '../../../scripts/lib/plan/planner.js'
import type { StatusRow } from '../../../scripts/lib/plan/status.js'
import { addRun, BUCKETS, CAUSES, emptyCounters, type Cause } from '../../../scripts/lib/state/counters.js'
import type { Entry, Link } from '../../../scripts/lib/types.js'
import { parseExposition, parseLabels, valueOf } from '../../promtext.js'

const row = (state: StatusRow['state'], recorded = state !== 'unrecorded'): StatusRow => ({
  recordedName: recorded ? 'eth0' : null,
  name: 'eth0',
  state,
  identity: { bus: null, devPort: null, permAddr: null, mac: null },
  container: null,
  away: null,
  keepers: null,
  detail: '',
  source: recorded ? 'registry' : null,
})

describe('formatMetrics', () => {
  const rows = [row('home'), row('home'), row('away'), row('returned_misnamed'), row('conflict'), row('unrecorded')]
  const counters = addRun(emptyCounters(), { done: 5, failed: 1, conflicts: { name_held: 2, ambiguous: 1 }, run: 'failed', seconds: [0.05, 0.3, 12, 45] })
  const text = formatMetrics(rows, counters)
  const fams = parseExposition(text)

  it('is valid exposition text with the documented families, types and HELP', () => {
    expect([...fams.values()].map((f) => [f.name, f.type])).toEqual([
      ['nicback_nics_recorded', 'gauge'],
      ['nicback_nics', 'gauge'],
      ['nicback_restores_total', 'counter'],
      ['nicback_restore_runs_total', 'counter'],
      ['nicback_conflicts_total', 'counter'],
      ['nicback_names_found_total', 'counter'],
      ['nicback_return_to_name_seconds', 'histogram'],
    ])
    for (const f of fams.values()) expect(f.help.length).toBeGreaterThan(20)
  })

  it('gauges from the status rows: every state, zero included', () => {
    expect(valueOf(fams, 'nicback_nics_recorded')).toBe(5)
    expect(Object.fromEntries(STATES.map((s) => [s, valueOf(fams, 'nicback_nics', { state: s })]))).toEqual({ home: 2, away: 1, gone: 0, returned_misnamed: 1, conflict: 1, unrecorded: 1 })
    const empty = parseExposition(formatMetrics([], emptyCounters()))
    for (const s of STATES) expect(valueOf(empty, 'nicback_nics', { state: s })).toBe(0)
  })

  it('counters: both results and every cause, zero included', () => {
    expect(valueOf(fams, 'nicback_restores_total', { result: 'done' })).toBe(5)
    expect(valueOf(fams, 'nicback_restores_total', { result: 'failed' })).toBe(1)
    for (const c of CAUSES) expect(valueOf(fams, 'nicback_conflicts_total', { cause: c })).toBe(c === 'name_held' ? 2 : c === 'ambiguous' ? 1 : 0)
    expect(valueOf(fams, 'nicback_restore_runs_total', { result: 'ok' })).toBe(0)
    expect(valueOf(fams, 'nicback_restore_runs_total', { result: 'failed' })).toBe(1)
  })

  it('the histogram: cumulative buckets at the documented bounds, +Inf, sum, count', () => {
    const h = fams.get('nicback_return_to_name_seconds')!
    expect(h.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => [s.labels.le, s.value])).toEqual([
      ['0.1', 1],
      ['0.25', 1],
      ['0.5', 2],
      ['1', 2],
      ['2.5', 2],
      ['5', 2],
      ['10', 2],
      ['30', 3],
      ['+Inf', 4],
    ])
    expect(valueOf(fams, 'nicback_return_to_name_seconds_sum')).toBeCloseTo(57.35)
    expect(valueOf(fams, 'nicback_return_to_name_seconds_count')).toBe(4)
  })

  it('metricsJson: the same numbers, buckets in order', () => {
    const j = metricsJson(rows, counters)
    expect(j.nics.home).toBe(2)
    expect(j.restores).toEqual({ done: 5, failed: 1 })
    expect(j.runs).toEqual({ ok: 0, failed: 1 })
    expect(j.returnToNameSeconds.buckets.map((b) => b.le)).toEqual([...BUCKETS.map(String), '+Inf'])
    expect(j.returnToNameSeconds.count).toBe(4)
  })
})

describe('label values', () => {
  it('escapeLabel: backslash, quote and line feed escaped, and read back as they were (property)', () => {
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd')
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const line = `m{l="${escapeLabel(s)}"} 1`
        expect(line.split('\n')).toHaveLength(1)
        expect(parseLabels(`l="${escapeLabel(s)}"`)).toEqual({ l: s })
      }),
      { numRuns: 200 },
    )
  })

  it('no name or byte a container chose reaches a label: causes are a closed set whatever the reason says (or a cause smuggled in)', () => {
    fc.assert(
      fc.property(fc.constantFrom('conflict', 'ambiguous') as fc.Arbitrary<'conflict' | 'ambiguous'>, fc.string({ unit: 'binary' }), (outcome, reason) => {
        expect(CAUSES).toContain(conflictCause(outcome, reason as Cause))
        // the reason's text never picks the label: without the planner's cause it is other
        expect(Object.keys(runDelta([{ outcome, reason, home: false, ifindex: null }], false, () => null).conflicts)).toEqual([outcome === 'ambiguous' ? 'ambiguous' : 'other'])
      }),
    )
  })

  it('formatValue: Go float syntax', () => {
    expect([0, 1, 0.25, 1e-7, Infinity, -Infinity, Number.NaN].map(formatValue)).toEqual(['0', '1', '0.25', '1e-7', '+Inf', '-Inf', 'NaN'])
  })
})

// ------------------------------------------- causes, from the planner's own reasons

const macOf = (n: number) => `52:54:00:00:00:${n.toString(16).padStart(2, '0')}`
const nic = (i: number, name: string, o: Partial<Link> = {}): Link => ({
  ifindex: i,
  name,
  altnames: [],
  ifalias: null,
  driver: 'e1000',
  kind: null,
  up: true,
  mtu: 1500,
  bus: `0000:00:${i.toString(16).padStart(2, '0')}.0`,
  devPort: null,
  permAddr: null,
  mac: macOf(i),
  ...o,
})
const foreign = (i: number, name: string, o: Partial<Link> = {}) => nic(i, name, { bus: null, driver: 'veth', kind: 'veth', mac: macOf(0x80 + i), ...o })
const rec = (i: number, name: string, o: Partial<Entry> = {}): Entry => ({
  name,
  bus: `0000:00:${i.toString(16).padStart(2, '0')}.0`,
  devPort: null,
  permAddr: null,
  mac: macOf(i),
  ifindex: i,
  driver: 'e1000',
  mtu: 1500,
  up: true,
  recordedAt: 't',
  away: { since: 't', via: 'udev', leftAs: name },
  ...o,
})
const all: PlanOptions = { want: () => true, renameWhileUp: true }

function causes(links: Link[], entries: Entry[]): Record<string, string> {
  const p = planRestore(links, entries, all)
  return Object.fromEntries(p.decisions.filter((d) => d.outcome === 'conflict' || d.outcome === 'ambiguous').map((d) => [d.name, conflictCause(d.outcome, d.cause)]))
}

describe('conflictCause, on the planner', () => {
  it('name_held: a device nicback does not manage holds the name', () => {
    expect(causes([nic(3, 'dev3'), foreign(9, 'eth0')], [rec(3, 'eth0')])).toEqual({ eth0: 'name_held' })
  })
  it('altname_held: the name is an altname of another device', () => {
    expect(causes([nic(3, 'dev3'), foreign(9, 'veth9', { altnames: ['eth0'] })], [rec(3, 'eth0')])).toEqual({ eth0: 'altname_held' })
  })
  it('chain_blocked: a managed NIC holds it and cannot move itself', () => {
    expect(causes([nic(3, 'eth1'), nic(4, 'eth0'), foreign(9, 'eth1x')], [rec(3, 'eth0'), rec(4, 'eth1x')])).toEqual({ eth0: 'chain_blocked', eth1x: 'name_held' })
  })
  it('duplicate_record: one name recorded for two NICs', () => {
    expect(causes([nic(3, 'dev3'), nic(4, 'dev4')], [rec(3, 'eth0'), rec(4, 'eth0')])).toEqual({ eth0: 'duplicate_record' })
  })
  it('ambiguous: several devices match', () => {
    const links = [nic(5, 'dev5', { bus: '0000:00:03.0', devPort: 0 }), nic(6, 'dev6', { bus: '0000:00:03.0', devPort: 1 })]
    expect(causes(links, [rec(3, 'eth0', { ifindex: 3 })])).toEqual({ eth0: 'ambiguous' })
  })
  it('invalid_name: the recorded name is not one the kernel takes', () => {
    expect(causes([nic(3, 'dev3')], [rec(3, 'a/b')])).toEqual({ 'a/b': 'invalid_name' })
  })
  it('a hostile holder name cannot steer the label', () => {
    expect(causes([nic(3, 'dev3'), foreign(9, 'eth0', { ifalias: '"x" is an altname of y' })], [rec(3, 'eth0')])).toEqual({ eth0: 'name_held' })
  })
})

describe('runDelta', () => {
  const n = (outcome: RunNic['outcome'], home: boolean, reason = '', ifindex: number | null = 3): RunNic => ({ outcome, home, reason, ifindex })
  it('counts restores done and failed (NICs), conflicts by cause (NICs), the run once (failed: a step refused), and the seconds it knows', () => {
    const d = runDelta([n('restore', true), n('restore', true, '', 4), n('restore', false), n('home', true), n('away', false, '', null), n('conflict', false, 'whatever'), n('ambiguous', false)], true, (x) => (x.ifindex === 3 ? 0.5 : null))
    expect(d).toEqual({ done: 2, failed: 1, conflicts: { other: 1, ambiguous: 1 }, run: 'failed', seconds: [0.5] })
  })
  it('a NIC home with only its settings restored is not a restore', () => {
    expect(runDelta([n('home', true)], false, () => 1)).toEqual({ done: 0, failed: 0, conflicts: {}, run: null, seconds: [] })
  })
})

describe('formatAgentMetrics', () => {
  const facts = {
    version: '0.1.0',
    node: 'node-a',
    ready: true,
    lastReconcileSeconds: 1_700_000_000.5,
    events: { add: 3, move: 1, remove: 2 },
    runs: { ok: 4, failed: 1 },
    process: { cpuUserSeconds: 1.5, cpuSystemSeconds: 0.25, residentBytes: 50 << 20, virtualBytes: 900 << 20, startTimeSeconds: 1_699_999_000, openFds: 21, maxFds: 1024 },
  }
  it('build info, readiness, events and runs, and the standard process metrics, as valid exposition text', () => {
    const f = parseExposition(formatAgentMetrics(facts))
    expect([...f.values()].map((x) => [x.name, x.type])).toEqual([
      ['nicback_build_info', 'gauge'],
      ['nicback_agent_ready', 'gauge'],
      ['nicback_last_reconcile_success_timestamp_seconds', 'gauge'],
      ['nicback_agent_events_total', 'counter'],
      ['nicback_agent_runs_total', 'counter'],
      ['process_cpu_seconds_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'],
      ['process_virtual_memory_bytes', 'gauge'],
      ['process_start_time_seconds', 'gauge'],
      ['process_open_fds', 'gauge'],
      ['process_max_fds', 'gauge'],
    ])
    expect(valueOf(f, 'nicback_build_info', { version: '0.1.0', node: 'node-a' })).toBe(1)
    expect(valueOf(f, 'nicback_agent_ready')).toBe(1)
    expect(valueOf(f, 'nicback_last_reconcile_success_timestamp_seconds')).toBe(1_700_000_000.5)
    expect(valueOf(f, 'nicback_agent_events_total', { action: 'remove' })).toBe(2)
    expect(valueOf(f, 'nicback_agent_runs_total', { result: 'failed' })).toBe(1)
    expect(valueOf(f, 'process_cpu_seconds_total')).toBe(1.75)
    expect(valueOf(f, 'process_open_fds')).toBe(21)
  })
  it('not ready is 0; no reconcile yet and no fd limit leave their families without a sample', () => {
    const f = parseExposition(formatAgentMetrics({ ...facts, ready: false, lastReconcileSeconds: null, process: { ...facts.process, maxFds: null } }))
    expect(valueOf(f, 'nicback_agent_ready')).toBe(0)
    expect(f.get('nicback_last_reconcile_success_timestamp_seconds')?.samples ?? []).toEqual([])
    expect(f.get('process_max_fds')?.samples ?? []).toEqual([])
  })
})
