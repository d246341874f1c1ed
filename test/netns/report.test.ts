// What nicback says: the dry run (changes nothing), the --json report of
// restore, and the states of `status --json`.
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { createWorld, destroyWorlds, ensureBuilt, macOf, type RestoreJson, type StatusJson, type World } from './world.js'

beforeAll(ensureBuilt)
afterEach(destroyWorlds)

function seed(): { w: World; dev: string; idx: number } {
  const w = createWorld({ nics: 4 })
  expect(w.nicback(['record', ...w.nics]).code).toBe(0)
  const ctr = w.container()
  w.lend(ctr, ['eth2'], { eth2: 'eth0' })
  const idx = w.ifindexIn(ctr, 'eth2')
  w.handBack(ctr)
  return { w, dev: `dev${idx}`, idx }
}

const nic = (name: string, ifindex: number, now = name) => ({
  name,
  was: now,
  now,
  ifindex,
  outcome: 'home',
  home: true,
  reason: 'already under its recorded name',
  settings: false,
  source: 'registry',
})

describe('restore --dry-run', () => {
  test('prints the plan and changes neither a device nor the registry', () => {
    const { w, dev, idx } = seed()
    const links = w.links()
    const reg = w.registryText()

    const r = w.nicbackJson<RestoreJson>(['restore', '--dry-run'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json).toMatchObject({ dryRun: true, ok: true, errors: [] })
    expect(r.json.steps).toEqual([
      { op: 'rename', description: `rename "${dev}" to "eth2"` },
      { op: 'up', description: 'set "eth2" up' },
    ])
    expect(r.json.nics.find((n) => n.name === 'eth2')).toMatchObject({ ifindex: idx, was: dev, now: dev, outcome: 'restore', home: false })

    const t = w.nicback(['restore', '--dry-run'])
    expect(t.code).toBe(0)
    expect(t.stdout).toMatch(/^Plan:\n {2}1\. rename "dev\d+" to "eth2"\n {2}2\. set "eth2" up\n/)

    expect(w.links()).toEqual(links)
    expect(w.registryText()).toBe(reg)
    expect(w.where()).toEqual({ eth0: 'eth0', eth1: 'eth1', eth2: dev, eth3: 'eth3' })
  })
})

describe('restore --json', () => {
  test('has exactly the documented shape: ok, nics[].name/was/now/outcome/home/source, steps', () => {
    const { w, dev, idx } = seed()
    const ifindex = Object.fromEntries(w.links().map((l) => [l.ifname, l.ifindex]))
    const r = w.nicbackJson<RestoreJson>(['restore'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.json).toEqual({
      dryRun: false,
      ok: true,
      ms: expect.any(Number),
      errors: [],
      steps: [
        { op: 'rename', description: `rename "${dev}" to "eth2"` },
        { op: 'up', description: 'set "eth2" up' },
      ],
      nics: [nic('eth0', ifindex.eth0!), nic('eth1', ifindex.eth1!), { name: 'eth2', was: dev, now: 'eth2', ifindex: idx, outcome: 'restore', home: true, reason: `${dev} -> eth2`, settings: true, source: 'registry' }, nic('eth3', ifindex.eth3!)],
    })
    expect(w.where()).toEqual(w.allHome())
  })

  test('a failed restore has ok false, exit 1 and the reason in errors and nics', () => {
    const { w, dev } = seed()
    const r = w.nicbackJson<RestoreJson>(['restore', 'eth2', 'nosuch0'])
    expect(r.code).toBe(1)
    expect(r.json.ok).toBe(false)
    expect(r.json.errors).toEqual([expect.stringMatching(/^nosuch0 is not a recorded NIC/)])
    // eth2 itself was still brought home: the unknown name does not block it.
    expect(r.json.nics.find((n) => n.name === 'eth2')).toMatchObject({ was: dev, now: 'eth2', home: true })
    expect(w.where()).toEqual(w.allHome())
  })
})

describe('status --json', () => {
  test('home / away / returned_misnamed / conflict, read-only; veth stand-ins are never "unrecorded" (no bus)', () => {
    const w = createWorld({ nics: 5 })
    expect(w.nicback(['record', ...w.nics]).code).toBe(0)
    // eth1: in a container that is still alive.
    const alive = w.container('alive')
    w.lend(alive, ['eth1'])
    // eth2: back as dev<ifindex>.
    const c2 = w.container('c2')
    w.lend(c2, ['eth2'], { eth2: 'eth0' })
    const dev2 = w.handBack(c2).eth2!
    // eth3: back as dev<ifindex>, but a foreign device took "eth3" meanwhile.
    const c3 = w.container('c3')
    w.lend(c3, ['eth3'], { eth3: 'eth0' })
    w.hostIp('link', 'add', 'eth3', 'type', 'veth', 'peer', 'name', 'q0', 'netns', w.wire)
    const squatter = w.link('eth3')
    const dev3 = w.handBack(c3).eth3!
    // eth4: back under the free name it had inside.
    const c4 = w.container('c4')
    w.lend(c4, ['eth4'], { eth4: 'eth9' })
    expect(w.handBack(c4)).toEqual({ eth4: 'eth9' })
    expect(dev2).toMatch(/^dev\d+$/)
    expect(dev3).toMatch(/^dev\d+$/)

    const links = w.links()
    const reg = w.registryText()
    const r = w.nicbackJson<StatusJson[]>(['status'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.map((s) => [s.recordedName, s.name, s.state, s.source])).toEqual([
      ['eth0', 'eth0', 'home', 'registry'],
      ['eth1', null, 'away', 'registry'],
      ['eth2', dev2, 'returned_misnamed', 'registry'],
      ['eth3', dev3, 'conflict', 'registry'],
      ['eth4', 'eth9', 'returned_misnamed', 'registry'],
    ])
    expect(r.json.some((s) => s.state === 'unrecorded')).toBe(false)
    const row = (n: string) => r.json.find((s) => s.recordedName === n)!
    expect(row('eth0').identity).toEqual({ bus: null, devPort: null, permAddr: null, mac: macOf(0) })
    expect(row('eth2').detail).toBe('run "nicback restore eth2"')
    expect(row('eth4').detail).toBe('run "nicback restore eth4"')
    expect(row('eth3').detail).toContain(`eth3 (ifindex ${squatter.ifindex}), a device nicback does not manage`)
    expect(w.links()).toEqual(links)
    expect(w.registryText()).toBe(reg)

    const t = w.nicback(['status'])
    expect(t.code).toBe(0)
    expect(t.stdout.split('\n')[0]).toMatch(/^RECORDED\s+NOW\s+STATE\s+SOURCE\s+IDENTITY\s+WHERE$/)
    expect(t.stdout).toMatch(/^eth1\s+-\s+away\s+registry\s/m)

    // When the container dies too, eth1 comes back under its own name: home.
    expect(w.handBack(alive)).toEqual({ eth1: 'eth1' })
    const after = w.nicbackJson<StatusJson[]>(['status'])
    expect(after.json.find((s) => s.recordedName === 'eth1')).toMatchObject({ name: 'eth1', state: 'home' })
  })
})

describe('restore of a NIC that is still away, by name', () => {
  test('exits 1 and says where it is and how to get it back; lists only what was asked', () => {
    const w = createWorld({ nics: 3 })
    expect(w.nicback(['record', ...w.nics]).code).toBe(0)
    const ctr = w.container()
    w.lend(ctr, ['eth1'], { eth1: 'eth1' })
    const r = w.nicback(['restore', 'eth1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/eth1 is not back in this network namespace .*nicback release eth1/)
    const j = w.nicbackJson<RestoreJson>(['restore', 'eth1'])
    expect(j.json.nics.map((n) => n.name)).toEqual(['eth1'])
    expect(j.json.nics[0]).toMatchObject({ outcome: 'away', home: false })
  })
})
