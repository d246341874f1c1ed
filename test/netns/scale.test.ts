// Many NICs at once, and several nicback processes at once.
import { readdirSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { afterEach, beforeAll, expect, test } from 'vitest'
import { createWorld, destroyWorlds, ensureBuilt, NICBACK, NODE, type RestoreJson, type World } from './world.js'

beforeAll(ensureBuilt)
afterEach(destroyWorlds)

/** `total` stand-ins recorded; the first `anchors` stay home, the others are
 *  lent to `containers` containers and renamed there eth0..eth<anchors-1>,
 *  names the host's anchors hold: every one comes back as dev<ifindex>. */
function massReturn(total: number, anchors: number, containers: number): { w: World; lent: string[] } {
  const w = createWorld({ nics: total })
  const rec = w.nicback(['record', ...w.nics])
  expect(rec.code, rec.stderr).toBe(0)
  const lent = w.nics.slice(anchors)
  const per = Math.ceil(lent.length / containers)
  expect(per).toBeLessThanOrEqual(anchors)
  const ctrs: string[] = []
  for (let c = 0; c < containers; c++) {
    const ctr = w.container(String(c))
    const group = lent.slice(c * per, (c + 1) * per)
    w.lend(ctr, group, Object.fromEntries(group.map((n, k) => [n, `eth${k}`])))
    ctrs.push(ctr)
  }
  for (const ctr of ctrs) {
    for (const [nic, name] of Object.entries(w.handBack(ctr))) {
      expect(name, nic).toMatch(/^dev\d+$/)
    }
  }
  const where = w.where()
  expect(lent.filter((n) => where[n] === n)).toEqual([])
  return { w, lent }
}

test('64 NICs handed back from 4 containers as dev<ifindex>: one restore brings all 64 home', () => {
  // 80 stand-ins: eth0..eth15 stay home and hold the names the containers
  // used, so each of the 64 lent ones (eth16..eth79) comes back as dev<N>.
  const { w, lent } = massReturn(80, 16, 4)
  expect(lent).toHaveLength(64)
  const t0 = performance.now()
  const r = w.nicbackJson<RestoreJson>(['restore'])
  const wall = performance.now() - t0
  console.log(`netns: restore of ${lent.length} returned NICs: ${wall.toFixed(0)} ms wall (nicback's own measure: ${r.json.ms} ms)`)
  expect(r.code, r.stderr).toBe(0)
  expect(r.json.ok).toBe(true)
  expect(w.where()).toEqual(w.allHome())
  expect(r.json.steps.filter((s) => s.op === 'rename')).toHaveLength(64)
  expect(r.json.nics.filter((n) => n.outcome === 'restore' && n.home)).toHaveLength(64)
  for (const n of lent) expect(w.link(n).flags, n).toContain('UP')
  const again = w.nicbackJson<RestoreJson>(['restore'])
  expect(again.json.steps).toEqual([])
})

test('4 restores started at once on 8 returned NICs: all succeed, the work is done once, the registry stays valid', async () => {
  const { w, lent } = massReturn(10, 2, 4)
  expect(lent).toHaveLength(8)
  const runs = await Promise.all([0, 1, 2, 3].map(() => w.nicbackAsync(['restore', '--json'])))
  const reports = runs.map((r) => {
    expect(r.code, r.stderr).toBe(0)
    return JSON.parse(r.stdout) as RestoreJson
  })
  for (const rep of reports) {
    expect(rep.ok).toBe(true)
    expect(rep.errors).toEqual([])
  }
  // The lock serialises them: one run renames all 8, the others find them home.
  const renames = reports.map((rep) => rep.steps.filter((s) => s.op === 'rename').length)
  expect(renames.slice().sort()).toEqual([0, 0, 0, 8])
  expect(w.where()).toEqual(w.allHome())

  const reg = JSON.parse(w.registryText()) as { format: string; version: number; nics: { name: string; away: unknown }[] }
  expect(reg.format).toBe('nicback-registry')
  expect(reg.version).toBe(1)
  expect(reg.nics.map((e) => e.name).sort()).toEqual(w.nics.slice().sort())
  expect(w.nicback(['status']).code).toBe(0)
})

test('a storm: 64 udev add events at once (through the udev front), one per returned NIC: all exit 0, one run does the work, each NIC renamed exactly once, all home', async () => {
  const { w, lent } = massReturn(80, 16, 4)
  const front = join(dirname(NICBACK), 'udev', 'nicback-udev-front.sh')
  const devs = w.links().filter((l) => /^dev\d+$/.test(l.ifname))
  expect(devs).toHaveLength(64)
  const t0 = performance.now()
  const runs = await Promise.all(
    devs.map(
      (l, i) =>
        new Promise<{ code: number; stderr: string }>((resolve, reject) => {
          const env = {
            ...process.env,
            NICBACK_STATE_DIR: w.state,
            ACTION: 'add',
            SEQNUM: String(1000 + i),
            INTERFACE: l.ifname,
            IFINDEX: String(l.ifindex),
            DEVPATH: `/devices/pci0000:00/0000:00:${(i % 32).toString(16).padStart(2, '0')}.${i >> 5}/net/${l.ifname}`,
          }
          const child = spawn('ip', ['netns', 'exec', w.host, 'sh', front, NODE], { env, stdio: ['ignore', 'ignore', 'pipe'] })
          let stderr = ''
          child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
          child.on('error', reject)
          child.on('close', (code) => resolve({ code: code ?? -1, stderr }))
        }),
    ),
  )
  const wall = performance.now() - t0
  const leaders = runs.filter((r) => /ran in \d+ ms/.test(r.stderr)).length
  console.log(`netns: storm of ${devs.length} udev add events: ${wall.toFixed(0)} ms wall, ${leaders} run(s) did the work`)
  for (const r of runs) expect(r.code, r.stderr).toBe(0)
  expect(runs.filter((r) => /error|warning/.test(r.stderr)).map((r) => r.stderr)).toEqual([])
  // every NIC was back before the first event: the first leader's run has
  // them all, later rounds find them home
  expect(leaders).toBe(1)
  expect(
    readdirSync(w.state).filter((f) => f.startsWith('udev-pending')),
    'no mark left behind',
  ).toEqual([])
  const renamed = runs.flatMap((r) => [...r.stderr.matchAll(/rename "(dev\d+)" to "(eth\d+)"/g)].map((m) => m[2]!))
  expect(renamed.slice().sort()).toEqual(lent.slice().sort())
  expect(w.where()).toEqual(w.allHome())
})

test('a leave storm: 32 udev remove events at once (through the udev front): all exit 0, every departure recorded in order, no mark left', async () => {
  const w = createWorld({ nics: 40 })
  expect(w.nicback(['record', ...w.nics]).code).toBe(0)
  const front = join(dirname(NICBACK), 'udev', 'nicback-udev-front.sh')
  const leaving = w.nics.slice(8)
  const idx = Object.fromEntries(leaving.map((n) => [n, w.link(n).ifindex]))
  const ctr = w.container('0')
  w.lend(ctr, leaving)
  const t0 = performance.now()
  const runs = await Promise.all(
    leaving.map(
      (n, i) =>
        new Promise<{ code: number; stderr: string }>((resolve, reject) => {
          const env = { ...process.env, NICBACK_STATE_DIR: w.state, ACTION: 'remove', INTERFACE: n, IFINDEX: String(idx[n]), SEQNUM: String(1000 + i), DEVPATH: `/devices/pci0000:00/0000:00:${(i % 32).toString(16).padStart(2, '0')}.1/net/${n}` }
          const child = spawn('ip', ['netns', 'exec', w.host, 'sh', front, NODE], { env, stdio: ['ignore', 'ignore', 'pipe'] })
          let stderr = ''
          child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
          child.on('error', reject)
          child.on('close', (code) => resolve({ code: code ?? -1, stderr }))
        }),
    ),
  )
  const nodes = runs.filter((r) => r.stderr !== '').length
  console.log(`netns: leave storm of ${leaving.length} udev remove events: ${(performance.now() - t0).toFixed(0)} ms wall, ${nodes} node process(es) did the work`)
  for (const r of runs) expect(r.code, r.stderr).toBe(0)
  expect(runs.filter((r) => /error|warning/.test(r.stderr)).map((r) => r.stderr)).toEqual([])
  const said = runs.flatMap((r) => [...r.stderr.matchAll(/(eth\d+) \(bus [^)]*\) left the host/g)].map((m) => m[1]!))
  expect(said.slice().sort()).toEqual(leaving.slice().sort())
  const reg = JSON.parse(w.registryText()) as { nics: { name: string; away: unknown }[] }
  expect(
    reg.nics
      .filter((e) => e.away !== null)
      .map((e) => e.name)
      .sort(),
  ).toEqual(leaving.slice().sort())
  expect(readdirSync(w.state).filter((f) => /^udev-(pending|departure)/.test(f))).toEqual([])
})
