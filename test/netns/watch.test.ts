// `nicback watch`, the resident agent: the start-up reconcile, events read
// from a monitor stream (here `tail -f` of a file the test writes in the
// format of `udevadm monitor --udev --property`), coalesced restore runs,
// /healthz and /readyz, JSON logs, a clean stop on SIGTERM.
import { appendFileSync, chmodSync } from 'node:fs'
import { afterEach, beforeAll, expect, test } from 'vitest'
import { block, probe, startAgent, stopAgents, until } from './agent.js'
import { createWorld, destroyWorlds, ensureBuilt } from './world.js'

beforeAll(ensureBuilt)
afterEach(() => {
  stopAgents()
  destroyWorlds()
})

test('reconciles on start, brings home NICs as their events arrive, stops cleanly on SIGTERM', async () => {
  const w = createWorld({ nics: 6 })
  expect(w.nicback(['record', ...w.nics]).code).toBe(0)
  // eth4 came back as devN while nobody watched
  const c0 = w.container('0')
  w.lend(c0, ['eth4'], { eth4: 'eth0' })
  expect(w.handBack(c0).eth4).toMatch(/^dev\d+$/)
  const a = startAgent(w)
  await until('ready', () => probe(w, a, '/readyz')[0] === 200)
  expect(w.where().eth4, 'the start-up reconcile brought eth4 home').toBe('eth4')
  expect(probe(w, a, '/healthz')[0]).toBe(200)

  // eth5 comes back from a container as devN: home through its add event
  const c1 = w.container('1')
  w.lend(c1, ['eth5'], { eth5: 'eth1' })
  const back = w.handBack(c1).eth5!
  expect(back).toMatch(/^dev\d+$/)
  appendFileSync(a.events, block('add', back, w.link(back).ifindex, 5))
  await until('eth5 home', () => w.where().eth5 === 'eth5')
  // /metrics is read again after the run, at most a second after the last read
  let metrics: [number, string] = [0, '']
  await until('the metrics count its restore', () => /^nicback_restores_total\{result="done"\} 2$/m.test((metrics = probe(w, a, '/metrics'))[1]))
  expect(metrics[0], metrics[1]).toBe(200)
  expect(probe(w, a, '/nothing')[0]).toBe(404)

  // eth3 leaves: its remove event writes its host name down
  const c2 = w.container('2')
  const idx = w.link('eth3').ifindex
  w.lend(c2, ['eth3'], { eth3: 'eth0' })
  appendFileSync(a.events, block('remove', 'eth3', idx, 3))
  const away = () => (JSON.parse(w.registryText()) as { nics: { name: string; away: unknown }[] }).nics.find((e) => e.name === 'eth3')?.away
  await until('eth3 recorded as away', () => away() != null)

  // a forged block (a key twice) is dropped with a warning, the agent lives on
  appendFileSync(a.events, block('add', 'eth1', 3, 1).replace('SEQNUM=', 'INTERFACE=eth9\nSEQNUM='))
  await until('the dropped block logged', () => a.lines().some((l) => /dropped a udev event/.test(String(l.msg))))
  expect(probe(w, a, '/healthz')[0]).toBe(200)

  const t0 = performance.now()
  a.child.kill('SIGTERM')
  expect(await a.exited).toBe(0)
  console.log(`netns: watch stopped ${(performance.now() - t0).toFixed(0)} ms after SIGTERM`)
  const lines = a.lines()
  expect(lines.filter((l) => 'notJson' in l)).toEqual([])
  expect(lines.some((l) => l.nic === 'eth5' && l.level === 'info' && /restored/.test(String(l.msg)))).toBe(true)
  expect(lines.filter((l) => l.level === 'error')).toEqual([])
})

test('a storm of 32 add events is brought home by one or two runs, each NIC renamed once', async () => {
  const w = createWorld({ nics: 40 })
  expect(w.nicback(['record', ...w.nics]).code).toBe(0)
  const a = startAgent(w)
  await until('ready', () => probe(w, a, '/readyz')[0] === 200)
  const lent = w.nics.slice(8)
  const ctrs = [0, 1, 2, 3].map((c) => {
    const ctr = w.container(String(c))
    const group = lent.slice(c * 8, c * 8 + 8)
    w.lend(ctr, group, Object.fromEntries(group.map((n, k) => [n, `eth${k}`])))
    return ctr
  })
  const backs = ctrs.flatMap((c) => Object.values(w.handBack(c)))
  expect(backs.filter((b) => /^dev\d+$/.test(b))).toHaveLength(32)
  const t0 = performance.now()
  appendFileSync(a.events, backs.map((b, i) => block('add', b, w.link(b).ifindex, 8 + (i % 20))).join(''))
  await until('all home', () => JSON.stringify(w.where()) === JSON.stringify(w.allHome()))
  console.log(`netns: watch brought 32 NICs home ${(performance.now() - t0).toFixed(0)} ms after their events`)
  a.child.kill('SIGTERM')
  expect(await a.exited).toBe(0)
  const ran = a.lines().filter((l) => /^ran in \d+ ms/.test(String(l.msg)))
  expect(ran.length).toBeGreaterThanOrEqual(1)
  expect(ran.length).toBeLessThanOrEqual(2)
  const renames = ran.flatMap((l) => [...String(l.msg).matchAll(/rename "dev\d+" to "(eth\d+)"/g)].map((m) => m[1]))
  expect(renames.slice().sort()).toEqual(lent.slice().sort())
})

test('a monitor that cannot start: exit 1 with the cause', () => {
  const w = createWorld({ nics: 1 })
  const r = w.nicback(['watch'], { NICBACK_WATCH_MONITOR: JSON.stringify(['/nonexistent/udevadm']) })
  expect(r.code).toBe(1)
  expect(r.stderr).toMatch(/cannot start \/nonexistent\/udevadm/)
})

// Issue 18: what the agent's health says must be true.
test('/readyz is 503 with the reason while the state dir is refused, 200 once it is fixed, 503 again when it is not; /healthz stays 200 throughout', async () => {
  const w = createWorld({ nics: 1 })
  chmodSync(w.state, 0o777)
  const a = startAgent(w)
  await until('the agent listens', () => probe(w, a, '/healthz')[0] === 200)
  const [code, why] = probe(w, a, '/readyz')
  expect(code).toBe(503)
  expect(why).toMatch(/refusing the state directory .*: others can write it \(mode 0777\)/)
  await until('metrics say not ready', () => /^nicback_agent_ready 0$/m.test(probe(w, a, '/metrics')[1]))
  chmodSync(w.state, 0o700)
  await until('ready once the state dir is private', () => probe(w, a, '/readyz')[0] === 200, 25_000)
  expect(probe(w, a, '/healthz')[0]).toBe(200)
  chmodSync(w.state, 0o777)
  await until('not ready again', () => probe(w, a, '/readyz')[0] === 503, 25_000)
  expect(probe(w, a, '/healthz')[0]).toBe(200)
  chmodSync(w.state, 0o700)
}, 90_000)

test("metrics carry the build, readiness, the last reconcile, the agent's events and runs, and the standard process metrics", async () => {
  const w = createWorld({ nics: 1 })
  expect(w.nicback(['record', 'eth0']).code).toBe(0)
  const a = startAgent(w)
  await until('ready', () => probe(w, a, '/readyz')[0] === 200)
  appendFileSync(a.events, block('remove', 'eth9', 77, 9))
  await until('the event counted', () => /^nicback_agent_events_total\{action="remove"\} 1$/m.test(probe(w, a, '/metrics')[1]))
  const text = probe(w, a, '/metrics')[1]
  expect(text).toMatch(/^nicback_build_info\{version="\d+\.\d+\.\d+",node="[^"]+"\} 1$/m)
  expect(text).toMatch(/^nicback_agent_ready 1$/m)
  const at = Number(/^nicback_last_reconcile_success_timestamp_seconds (\S+)$/m.exec(text)?.[1])
  expect(Math.abs(at - Date.now() / 1000)).toBeLessThan(120)
  expect(text).toMatch(/^nicback_agent_runs_total\{result="ok"\} [1-9]\d*$/m)
  for (const m of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'process_open_fds']) expect(text).toMatch(new RegExp(`^${m} [0-9.e+]+$`, 'm'))
})
