// Issue 3: with nicback installed (udev rules only, nobody runs it by hand),
// NICs that come back from dead containers get their host names back by
// themselves, on both kernel event orders (6.1: add + move, 6.12: add devN).
// One boot per kernel runs every scenario of test/vm/scenarios/udev.sh.
import { readFileSync } from 'node:fs'
import { beforeAll, expect, test } from 'vitest'
import { CHECKOUT, KERNELS, runInVm, describeVm, requireVm, type VmRun, type WatchedScenario } from './harness.js'

/** runInVm's default vCPUs (harness.ts). */
const GUEST_CPUS = 2
const script = readFileSync(`${CHECKOUT}/test/vm/scenarios/udev.sh`, 'utf8')

type Scenario = WatchedScenario

const SCENARIOS = [
  ['seed', 'ens3 renamed ens4 inside a Docker container comes back as ens3'],
  ['two-eth0', 'two containers, each NIC eth0 inside: both come back home'],
  ['free-name', 'renamed to a name free on the host (eth9): back to ens3'],
  ['mac-changed', 'the container changed MAC and ifalias: back to ens3 with its MAC'],
  ['cycle', "three NICs back under each other's names: all home (temporary name)"],
  ['plain-netns', 'ip netns add / set netns / ip netns del, no Docker'],
  ['not-utf8', 'named q\\xff\\xff\\xffz inside, not UTF-8: back to ens4'],
  ['sysctl', 'ens4 with a sysctl.d setting of its own, back as devN: home, the setting applied again'],
] as const

describeVm.each(KERNELS)('udev rules on kernel %s', (kernel) => {
  let vm: VmRun
  let results: Record<string, Scenario> = {}
  let context = ''
  beforeAll(async () => {
    requireVm()
    vm = await runInVm({ kernel, script, docker: true, timeoutMs: 900_000 })
    results = (vm.result ?? {}) as Record<string, Scenario>
    const syslog = String((vm.result as { syslog?: string } | null)?.syslog ?? '')
    context = `nicback's log:\n${syslog}\nscenario log:\n${vm.log}\nguest log:\n${vm.guestLog}\nconsole:\n${vm.console.slice(-2000)}`
    console.log(`[vm ${kernel} udev] boot ${vm.bootMs} ms, total ${vm.wallMs} ms`)
  }, 1_000_000)

  test('the VM ran every scenario', () => {
    expect(vm.timedOut, context).toBe(false)
    expect(vm.exitCode, context).toBe(0)
    expect(Object.keys(results).sort(), context).toEqual(expect.arrayContaining(SCENARIOS.map(([k]) => k)))
  })

  test.each(SCENARIOS)('%s: %s', (key) => {
    const r = results[key]
    expect(r, context).toBeDefined()
    if (!r) return
    const nics = Object.entries(r.watch.nics)
    const times = nics.map(([mac, n]) => `${mac} ${n.seen.join(' -> ')} back ${n.backMs} ms, named ${n.namedMs} ms`)
    console.log(`[vm ${kernel} ${key}] command ${r.watch.cmdMs} ms; ${times.join('; ')}`)
    expect(r.watch.cmdStatus, context).toBe(0)
    for (const [mac, n] of nics) {
      expect(n.final, `${mac} in ${key}\n${context}`).toBe(n.expected)
      expect(n.namedMs, `${mac} never had its name in ${key}`).not.toBeNull()
      // "Within a second of the kernel handing the NIC back" holds on a
      // server, where node starts in ~60 ms; the bench measures it. Under
      // software emulation node's start alone takes the guest nodeMs, and a
      // restore run costs about 6 of them (udevd's worker, the add and, on
      // 6.1, the move event's run, four short processes, docker rm sharing
      // the guest), more when NICs come back at once on the guest's 2 vCPUs.
      // Observed: single NICs 2.1-4.9 s, the 3-NIC cycle 4.8-8.7 s with
      // node -e 0 at 0.75-0.9 s. The bound is twice that model, so the
      // emulator's noise does not fail it (a CI run did at 1x), while a
      // fixed sleep or a lock wait of 10 s on top of a run still does.
      const nodeMs = Number((results as Record<string, unknown>).nodeMs)
      expect(nodeMs, 'the guest measured node -e 0').toBeGreaterThan(0)
      const share = Math.max(1, nics.length / GUEST_CPUS)
      expect(n.namedMs! - n.backMs!, `${mac}: ${n.seen.join(' -> ')} (guest node -e 0: ${nodeMs} ms, ${nics.length} NICs at once)`).toBeLessThan(1000 + 12 * nodeMs * share)
    }
    expect(r.watch.ok).toBe(true)
    // nothing else on the host was renamed, and every MAC is what it was
    expect(r.untouched, `host after ${key}:\n${r.after}\n${context}`).toBe(true)
  })

  test('the rule starts the front for an add, not for a rename into a name that is no devN', () => {
    const runs = (results as Record<string, unknown>)['rule-runs'] as { move: number; add: number; noted: string; logged: number } | undefined
    expect(runs, context).toBeDefined()
    expect(runs!.add, 'udevadm test --action=add lists the front').toBeGreaterThan(0)
    expect(runs!.move, 'udevadm test --action=move lists the front').toBeGreaterThan(0)
    // a rename on the host: noted by the front for a hand-over, no node started
    expect(runs!.noted, context).toMatch(/^ens3 lan3 3 \/devices\/pci0000:00\/0000:00:03\.0\/net\/lan3$/)
    expect(runs!.logged, 'nicback logged nothing for two renames on the host').toBe(0)
  })

  test('a NIC brought home gets its sysctl.d settings for its home name again (the kernel reset them when it changed netns)', () => {
    const v = (results as Record<string, unknown>)['sysctl-values'] as { before: number; inside: number; after: number } | undefined
    expect(v, context).toBeDefined()
    expect(v!.before, 'applied as at boot').toBe(2)
    expect(v!.inside, 'the kernel reset it when ens4 changed netns').toBe(0)
    expect(v!.after, "applied again on nicback's change event").toBe(2)
    expect(results.sysctl?.watch.nics['52:54:00:00:00:11']?.seen[0], 'back as devN').toMatch(/^dev\d+$/)
  })

  test('each scenario really produced the misnaming nicback fixed', () => {
    const first = (key: string, mac: string) => results[key]?.watch.nics[mac]?.seen[0]
    expect(first('seed', '52:54:00:00:00:10'), 'the seed case came back as devN').toMatch(/^dev\d+$/)
    expect(first('free-name', '52:54:00:00:00:10'), 'free name: back as eth9').toBe('eth9')
    expect(first('cycle', '52:54:00:00:00:10'), 'cycle: ens3 back as ens4').toBe('ens4')
    expect(first('cycle', '52:54:00:00:00:11'), 'cycle: ens4 back as ens5').toBe('ens5')
    expect(first('not-utf8', '52:54:00:00:00:11'), 'not UTF-8: back under its bytes').toBe('q\ufffd\ufffd\ufffdz')
    const log = String((results as Record<string, unknown>).syslog ?? '')
    expect(log, 'nicback logged a temporary name for the cycle').toMatch(/rename "ens\d" to "nbtmp\d+"/)
  })

  // Issue 16: LXC 5.0.2's phys type (scenarios/lxc.sh), each case its own
  // container: a clean stop (LXC brings the NIC home itself, through a
  // physXXXXXX name), a crash (the monitor killed: nobody brings it home),
  // and a clean stop whose rename home LXC loses to udev's altname.
  const LXC_CASES = ['eth0.stop', 'eth0.crash', 'eth0.lost', 'ens4.stop', 'ens4.crash', 'ens4.lost']
  type LxcCase = { afterStop?: string; afterStart?: string; stopEvents?: string[]; fixed?: string | null; lxcLog?: string; startRc?: number; errors?: string }
  test('LXC phys, with nicback: after every stop, clean, crashed or lost to udev, ens5 is home; never worse named than without; no error or warning', () => {
    const all = results as unknown as Record<string, Record<string, LxcCase> | string>
    const withIt = all['lxc-with'] as Record<string, LxcCase> | undefined
    const without = all['lxc-without'] as Record<string, LxcCase> | undefined
    expect(withIt, context).toBeDefined()
    expect(without, context).toBeDefined()
    const rows: string[] = []
    for (const c of LXC_CASES) {
      const a = withIt![c]
      const b = without![c]
      expect(a?.afterStart, `${c} with nicback: the NIC left the host\n${JSON.stringify(a)}`).toBe('')
      expect(a?.afterStop, `${c} with nicback\n${JSON.stringify(a)}\n${all['lxc-syslog']}`).toBe('ens5')
      rows.push(`${c}: without ${b?.afterStop} (${(b?.stopEvents ?? []).join(', ')}), with ${a?.afterStop} (${(a?.stopEvents ?? []).join(', ')})`)
    }
    // the crash really misnames it without nicback: the scenario shows the problem
    for (const c of ['eth0.crash', 'ens4.crash']) expect(without![c]?.afterStop, JSON.stringify(without![c])).not.toBe('ens5')
    const syslog = String(all['lxc-syslog'] ?? '')
    expect(
      syslog.split('\n').filter((l) => /\.(err|warn)|error|cannot lock/.test(l)),
      syslog,
    ).toEqual([])
    console.log(`[vm ${kernel} lxc] ${rows.join('; ')}`)
  })

  // Issue 20: day one. ens6 left before nicback was there, renamed inside;
  // nicback then started as the agent (a), was installed (b), was installed
  // on a host whose .link file names the port uplink0 (c). Each time the NIC
  // came home under the name udev's policy gives it.
  const M6 = '52:54:00:00:00:13'
  type DayOne = { watch: WatchedScenario['watch']; statusBefore: Row[]; status: Row[]; registry: { nics: { name: string; foundBy?: string }[]; unnamed?: unknown[] } | null }
  type Row = { recordedName: string | null; name: string | null; state: string; source: string | null; identity: { bus: string | null }; detail: string }
  const DAY_ONE = [
    ['day1-agent', 'the agent started after it left (back as eth7)', 'ens6', /^eth7$/],
    ['day1-install', 'nicback install after it left (back as devN)', 'ens6', /^dev\d+$/],
    ['day1-link', 'a .link Name=uplink0, nicback installed after it left', 'uplink0', /^(dev\d+|uplink0)$/],
  ] as const
  test.each(DAY_ONE)('day one, %s: %s: home under the policy name, recorded as found by policy', (key, _what, want, back) => {
    const r = (results as unknown as Record<string, DayOne>)[key]
    expect(r, context).toBeDefined()
    const n = r!.watch.nics[M6]
    const all = `${JSON.stringify(r)}\n${context}`
    expect(n?.seen[0], all).toMatch(back)
    expect(n?.final, all).toBe(want)
    // written down when nicback started, before it came back: away, no name yet
    const away = r!.statusBefore.filter((x) => x.identity.bus === '0000:00:06.0')
    expect(away, all).toMatchObject([{ recordedName: null, name: null, state: 'away', source: null }])
    expect(away[0]!.detail, all).toContain('away since before nicback was installed')
    // home, recorded with where its name came from; no longer written down
    expect(
      r!.status.filter((x) => x.identity.bus === '0000:00:06.0'),
      all,
    ).toMatchObject([{ recordedName: want, name: want, state: 'home', source: 'policy' }])
    expect(
      r!.registry?.nics.find((e) => e.name === want),
      all,
    ).toMatchObject({ foundBy: 'policy' })
    expect(r!.registry?.unnamed ?? [], all).toEqual([])
    expect(n!.namedMs, all).not.toBeNull()
  })
})
