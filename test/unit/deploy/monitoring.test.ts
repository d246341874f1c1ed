// deploy/kubernetes/components/monitoring: the PodMonitor scrapes the
// DaemonSet's pods as the alerts expect (job, node), and every alert of the
// PrometheusRule is run by `promtool test rules` on rules.test.yaml beside
// it: its groups are written to rules.yaml in a temporary folder, the test
// file copied next to them. promtool comes from Debian's prometheus package
// (.ci/run extracts it). Under CI (CI set) a missing promtool fails these
// tests; elsewhere they are skipped, loudly. The schema and unknown-field
// checks of both objects are kubernetes.test.ts's.
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { components, render, type Obj } from './manifests.js'

const DIR = components.monitoring!.dir
const TESTS = join(DIR, 'rules.test.yaml')
const objs = render(['monitoring'])
const one = (kind: string) => {
  const found = objs.filter((o) => o.kind === kind)
  if (found.length !== 1) throw new Error(`${found.length} ${kind} objects with the monitoring component, not 1`)
  return found[0] as Obj & { spec: any }
}
const ds = one('DaemonSet')
const pm = one('PodMonitor')
const rule = one('PrometheusRule')
interface Rule {
  alert?: string
  record?: string
  expr: string
  for?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}
const rules: Rule[] = rule.spec.groups.flatMap((g: { rules: Rule[] }) => g.rules)
const alerts = rules.map((r) => r.alert!)

// What nicback exports (docs/metrics.md; some of it is being added beside
// this work): the alerts may use these and nothing else.
const METRICS = ['nicback_nics', 'nicback_restores_total', 'nicback_agent_ready', 'nicback_build_info', 'up']
const STATES = ['home', 'away', 'gone', 'returned_misnamed', 'conflict', 'unrecorded']

describe('components/monitoring: the PodMonitor scrapes the agents as the rules expect', () => {
  const pod = ds.spec.template
  const c = pod.spec.containers[0]
  const ep = pm.spec.podMetricsEndpoints
  it("selects the DaemonSet's pods, in its namespace", () => {
    expect(pm.metadata.namespace).toBe(ds.metadata.namespace)
    expect(pm.spec.namespaceSelector).toBeUndefined() // its own namespace
    expect(Object.keys(pm.spec.selector)).toEqual(['matchLabels'])
    for (const [k, v] of Object.entries(pm.spec.selector.matchLabels as Record<string, string>)) expect(pod.metadata.labels[k], k).toBe(v)
  })
  it("one endpoint: the container's metrics port, /metrics over http", () => {
    expect(ep).toHaveLength(1)
    expect(c.ports.map((p: { name: string }) => p.name)).toContain(ep[0].port)
    expect(ep[0]).toMatchObject({ path: '/metrics', scheme: 'http' })
  })
  it('job is the pods\' app.kubernetes.io/name, "nicback", which every rule selects', () => {
    expect(pod.metadata.labels[pm.spec.jobLabel]).toBe('nicback')
    for (const r of rules) {
      const selectors = [...r.expr.matchAll(/\b([a-z_:]+)\{([^}]*)\}/g)]
      expect(selectors.length, r.alert).toBeGreaterThan(0)
      for (const [, , inside] of selectors) expect(inside, `${r.alert}: ${r.expr}`).toMatch(/\bjob="nicback"/)
    }
  })
  it("node: the pod's node, from the target; the scraped copy (build_info's) dropped", () => {
    expect(ep[0].relabelings).toContainEqual({ action: 'replace', sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' })
    expect(ep[0].metricRelabelings).toContainEqual({ action: 'labeldrop', regex: 'exported_node' })
    expect(c.env).toContainEqual({ name: 'NICBACK_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } })
  })
})

describe('components/monitoring: the alerts', () => {
  it('the four cases of the issue, five alerts: misnamed, conflict, restore failures, agent not ready, gone (information)', () => {
    expect(alerts).toEqual(['NicbackNICMisnamed', 'NicbackNICConflict', 'NicbackRestoreFailed', 'NicbackAgentNotReady', 'NicbackNICGone'])
    const by = (a: string) => rules.find((r) => r.alert === a)!
    expect(by('NicbackNICMisnamed')).toMatchObject({ for: '5m' })
    expect(by('NicbackNICConflict')).toMatchObject({ for: '5m' })
    expect(by('NicbackAgentNotReady')).toMatchObject({ for: '10m' })
    expect(by('NicbackRestoreFailed').expr).toMatch(/^increase\(nicback_restores_total\{[^}]*result="failed"[^}]*\}\[\w+\]\) > 0$/)
    expect(by('NicbackNICGone').labels?.severity).toBe('info')
    for (const a of alerts.filter((x) => x !== 'NicbackNICGone')) expect(by(a).labels?.severity, a).toBe('warning')
  })
  it.each(rules.map((r) => [r.alert, r] as const))('%s: names only exported metrics and states', (_a, r) => {
    expect(r.record).toBeUndefined()
    const names = r.expr.replace(/"[^"]*"/g, '""').match(/\b[a-z_:][a-z0-9_:]*(?=\{|\s|$|\))/g) ?? []
    const metrics = names.filter((n) => !['increase', 'or', 'and', 'unless', 'by', 'on'].includes(n))
    expect(metrics.length, r.expr).toBeGreaterThan(0)
    for (const m of metrics) expect(METRICS, `${m} in ${r.expr}`).toContain(m)
    for (const [, s] of r.expr.matchAll(/\bstate="([^"]*)"/g)) expect(STATES, r.expr).toContain(s)
  })
  it.each(rules.map((r) => [r.alert, r] as const))('%s: a summary and a description that name the node and what to run there', (_a, r) => {
    const { summary, description } = r.annotations ?? {}
    expect(summary).toContain('{{ $labels.node }}')
    expect(description).toContain('{{ $labels.node }}')
    expect(description).toContain('`kubectl -n {{ $labels.namespace }} exec {{ $labels.pod }} -- nicback status`')
    // the time the description states is the rule's own
    if (r.for !== undefined) expect(description).toContain(`${Number.parseInt(r.for)} minutes`)
    expect(Object.keys(r.annotations ?? {}).sort()).toEqual(['description', 'summary'])
  })
})

// ------------------------------------------------------- promtool test rules
const promtool = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).stdout.trim()
const CI = !['', '0', 'false'].includes(process.env.CI ?? '')
if (!promtool && !CI) {
  console.warn(
    [
      '!'.repeat(78),
      'components/monitoring: promtool is NOT installed: the alert rules were NOT',
      "tested (skipped). .ci/run installs it (Debian's prometheus package, only",
      'its promtool, in /var/cache/nicback-ci); under CI these tests fail without it.',
      '!'.repeat(78),
    ].join('\n'),
  )
}
/** promtool tests: run wherever promtool is, and under CI, where its absence fails them. */
const withPromtool = promtool || CI ? it : it.skip
const need = (): string => {
  if (!promtool) throw new Error('promtool is not installed, and CI is set: .ci/run installs it (see its promtool section)')
  return promtool
}

const tmp: string[] = []
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true })
})
/** `promtool test rules` of rules.test.yaml against these rule groups. */
function runRuleTests(groups: unknown): { status: number | null; out: string } {
  const bin = need()
  const dir = mkdtempSync(join(tmpdir(), 'nicback-rules-'))
  tmp.push(dir)
  writeFileSync(join(dir, 'rules.yaml'), stringify({ groups }))
  copyFileSync(TESTS, join(dir, 'rules.test.yaml'))
  const check = spawnSync(bin, ['check', 'rules', 'rules.yaml'], { cwd: dir, encoding: 'utf8' })
  if (check.status !== 0) return { status: check.status, out: `promtool check rules:\n${check.stdout}${check.stderr}` }
  const r = spawnSync(bin, ['test', 'rules', 'rules.test.yaml'], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, out: `${r.stdout}${r.stderr}` }
}
/** The groups with one alert's expr changed. */
const mutate = (alert: string, expr: (e: string) => string) => structuredClone(rule.spec.groups).map((g: { rules: Rule[] }) => ({ ...g, rules: g.rules.map((r) => (r.alert === alert ? { ...r, expr: expr(r.expr) } : r)) }))

describe('components/monitoring: promtool test rules (rules.test.yaml)', () => {
  const doc = parse(readFileSync(TESTS, 'utf8')) as {
    rule_files: string[]
    tests: { name?: string; input_series: { series: string }[]; alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[]
  }

  it('tests the rules file the test writes, and every alert, each with an evaluation where it fires and one where it does not', () => {
    expect(doc.rule_files).toEqual(['rules.yaml'])
    const evals = doc.tests.flatMap((t) => t.alert_rule_test)
    expect([...new Set(evals.map((e) => e.alertname))].sort()).toEqual([...alerts].sort())
    for (const a of alerts) {
      expect(
        evals.some((e) => e.alertname === a && e.exp_alerts.length > 0),
        `${a} fires somewhere`,
      ).toBe(true)
      expect(
        evals.some((e) => e.alertname === a && e.exp_alerts.length === 0),
        `${a} stays quiet somewhere`,
      ).toBe(true)
    }
    // every firing evaluation has series beside it that do not fire (other nodes, states, jobs)
    for (const t of doc.tests) {
      const firing = Math.max(...t.alert_rule_test.map((e) => e.exp_alerts.length))
      expect(t.input_series.length, t.name).toBeGreaterThan(firing)
    }
  })

  withPromtool('every alert passes its tests', () => {
    const r = runRuleTests(rule.spec.groups)
    expect(r.out).toMatch(/SUCCESS/)
    expect(r.status, r.out).toBe(0)
  })

  // the tests would see it: an alert that fired for every series, or for none
  withPromtool.each(alerts)('%s: fails its tests when it fires for anything, and when it never fires', (a) => {
    const always = runRuleTests(mutate(a, (e) => `${e} or vector(1)`))
    expect(always.status, always.out).toBe(1)
    expect(always.out).toContain(`alertname: ${a}`)
    const never = runRuleTests(mutate(a, () => 'vector(1) > 2'))
    expect(never.status, never.out).toBe(1)
    expect(never.out).toContain(`alertname: ${a}`)
  })

  withPromtool('a rule promtool cannot parse is refused', () => {
    const r = runRuleTests(mutate('NicbackNICGone', (e) => `${e} >`))
    expect(r.status, r.out).not.toBe(0)
    expect(r.out).toMatch(/check rules/)
  })
})
