// What stands in the way of a rename: a device nicback does not manage sitting
// on the recorded name, udev's altname on the returned NIC, an UP NIC on a
// kernel that refuses to rename it.
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { createWorld, destroyWorlds, ensureBuilt, type RestoreJson, type World } from './world.js'

beforeAll(ensureBuilt)
afterEach(destroyWorlds)

/** eth0..eth3 recorded; eth2 lent to a container, renamed eth0 there, handed
 *  back as dev<ifindex>. `beforeReturn` runs while it is away. */
function returned(beforeReturn: (w: World) => void = () => {}): { w: World; dev: string } {
  const w = createWorld({ nics: 4 })
  expect(w.nicback(['record', ...w.nics]).code).toBe(0)
  const ctr = w.container()
  w.lend(ctr, ['eth2'], { eth2: 'eth0' })
  const dev = `dev${w.ifindexIn(ctr, 'eth2')}`
  beforeReturn(w)
  expect(w.handBack(ctr)).toEqual({ eth2: dev })
  return { w, dev }
}

describe('a foreign device squatting on the recorded name', () => {
  test('restore fails with a conflict naming the squatter and renames neither device', () => {
    const { w, dev } = returned((w) => w.hostIp('link', 'add', 'eth2', 'address', '02:4e:42:ff:ff:01', 'type', 'veth', 'peer', 'name', 'q0', 'netns', w.wire))
    const squatter = w.link('eth2')
    const before = w.links()
    const reg = w.registryText()

    const r = w.nicbackJson<RestoreJson>(['restore'])
    expect(r.code).toBe(1)
    expect(r.json.ok).toBe(false)
    expect(r.json.steps).toEqual([])
    const nic = r.json.nics.find((n) => n.name === 'eth2')!
    expect(nic).toMatchObject({ was: dev, now: dev, outcome: 'conflict', home: false })
    expect(nic.reason).toContain(`eth2 (ifindex ${squatter.ifindex}), a device nicback does not manage`)

    expect(w.links()).toEqual(before)
    expect(w.link('eth2').address).toBe('02:4e:42:ff:ff:01')
    expect(w.where()).toEqual({ eth0: 'eth0', eth1: 'eth1', eth2: dev, eth3: 'eth3' })
    expect(w.registryText()).toBe(reg)

    // The text report says the same, for a person.
    const t = w.nicback(['restore'])
    expect(t.code).toBe(1)
    expect(t.stdout).toMatch(new RegExp(`eth2\\s+${dev}\\s+conflict\\s+.*ifindex ${squatter.ifindex}`))
  })

  test('once the squatter is gone, restore brings the NIC home', () => {
    const { w } = returned((w) => w.hostIp('link', 'add', 'eth2', 'type', 'veth', 'peer', 'name', 'q0', 'netns', w.wire))
    expect(w.nicback(['restore']).code).toBe(1)
    w.hostIp('link', 'del', 'eth2')
    const r = w.nicbackJson<RestoreJson>(['restore'])
    expect(r.code, r.stderr).toBe(0)
    expect(w.where()).toEqual(w.allHome())
  })

  test('a chain ending at the squatter: neither NIC of the chain is renamed, both reported with the cause', () => {
    const w = createWorld({ nics: 4 })
    expect(w.nicback(['record', ...w.nics]).code).toBe(0)
    const ctr = w.container()
    w.lend(ctr, ['eth1', 'eth2'], { eth1: 'eth0', eth2: 'eth1' })
    w.hostIp('link', 'add', 'eth2', 'type', 'veth', 'peer', 'name', 'q0', 'netns', w.wire)
    const squatter = w.link('eth2')
    // eth1 comes back as dev<N>; eth2 under "eth1", free at that moment.
    const given = w.handBack(ctr)
    expect(given.eth1).toMatch(/^dev\d+$/)
    expect(given.eth2).toBe('eth1')
    const before = w.links()

    const r = w.nicbackJson<RestoreJson>(['restore'])
    expect(r.code).toBe(1)
    expect(r.json.steps).toEqual([])
    const eth1 = r.json.nics.find((n) => n.name === 'eth1')!
    const eth2 = r.json.nics.find((n) => n.name === 'eth2')!
    expect(eth1).toMatchObject({ outcome: 'conflict', now: given.eth1 })
    expect(eth1.reason).toMatch(/held by eth1 \(recorded as "eth2".*cannot move/)
    expect(eth2).toMatchObject({ outcome: 'conflict', now: 'eth1' })
    expect(eth2.reason).toContain(`eth2 (ifindex ${squatter.ifindex}), a device nicback does not manage`)
    expect(w.links()).toEqual(before)
  })
})

describe('the altname trap', () => {
  test("udev's altname eth2 on the returned dev<N> is dropped first, then the rename succeeds", () => {
    const { w, dev } = returned()
    w.hostIp('link', 'property', 'add', 'dev', dev, 'altname', 'eth2')
    expect(w.link(dev).altnames).toEqual(['eth2'])
    // What nicback avoids: the plain rename fails with EEXIST.
    expect(() => w.hostIp('link', 'set', 'dev', dev, 'name', 'eth2')).toThrow(/File exists/)

    const r = w.nicbackJson<RestoreJson>(['restore'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.steps.map((s) => s.op)).toEqual(['altname-del', 'rename', 'up'])
    expect(w.where()).toEqual(w.allHome())
    expect(w.link('eth2').altnames ?? []).not.toContain('eth2')
  })

  test('an altname eth2 on another managed NIC (planted by a container) is dropped, and eth2 comes home (issue 8)', () => {
    const { w } = returned((w) => w.hostIp('link', 'property', 'add', 'dev', 'eth3', 'altname', 'eth2'))
    const r = w.nicbackJson<RestoreJson>(['restore'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.steps.map((s) => s.description)).toContain('drop altname "eth2" of "eth3"')
    expect(w.where()).toEqual(w.allHome())
    expect(w.link('eth3').altnames ?? []).toEqual([])
  })

  test('an altname eth2 on a device nicback does not manage is a conflict: nothing renamed, the altname kept', () => {
    const { w, dev } = returned((w) => {
      w.hostIp('link', 'add', 'vx0', 'type', 'veth', 'peer', 'name', 'qx0', 'netns', w.wire)
      w.hostIp('link', 'property', 'add', 'dev', 'vx0', 'altname', 'eth2')
    })
    const before = w.links()
    const r = w.nicbackJson<RestoreJson>(['restore'])
    expect(r.code).toBe(1)
    expect(r.json.nics.find((n) => n.name === 'eth2')).toMatchObject({ outcome: 'conflict', now: dev })
    expect(r.json.nics.find((n) => n.name === 'eth2')!.reason).toMatch(/altname of vx0/)
    expect(w.links()).toEqual(before)
    expect(w.link('vx0').altnames).toEqual(['eth2'])
  })
})

describe('an UP returned NIC', () => {
  /** Runs restore while `ip monitor link` watches the host; returns the report
   *  and the flags the NIC carried in the first event under its new name. */
  async function restoreWatched(w: World, env: Record<string, string>) {
    const mon = await w.watchLinks()
    const r = w.nicbackJson<RestoreJson>(['restore'], env)
    const events = (await mon.stop()).join('\n')
    const first = /^\d+: eth2(?:@\S+)?: <([^>]*)>/m.exec(events)
    expect(first, `no event for eth2 in:\n${events}`).not.toBeNull()
    return { r, flagsAtRename: first![1]!.split(',') }
  }

  test('pre-6.2 kernel (NICBACK_RENAME_WHILE_UP=0): down, rename, up; it was down when renamed and is up at the end', async () => {
    const { w, dev } = returned()
    w.hostIp('link', 'set', dev, 'up')
    const { r, flagsAtRename } = await restoreWatched(w, { NICBACK_RENAME_WHILE_UP: '0' })
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.steps.map((s) => s.op)).toEqual(['down', 'rename', 'up'])
    expect(flagsAtRename).not.toContain('UP')
    expect(w.where()).toEqual(w.allHome())
    expect(w.link('eth2').flags).toContain('UP')
  })

  test('pre-6.2 kernel, a three-way cycle of UP NICs: each is down before its first rename, all up at the end', () => {
    const w = createWorld({ nics: 4 })
    expect(w.nicback(['record', ...w.nics]).code).toBe(0)
    const ctr = w.container()
    w.lend(ctr, ['eth1', 'eth2', 'eth3'], { eth1: 'eth2', eth2: 'eth3', eth3: 'eth1' })
    w.handBack(ctr)
    for (const n of ['eth1', 'eth2', 'eth3']) w.hostIp('link', 'set', n, 'up')
    const r = w.nicbackJson<RestoreJson>(['restore', '--all'], { NICBACK_RENAME_WHILE_UP: '0' })
    expect(r.code, r.stderr).toBe(0)
    expect(w.where()).toEqual(w.allHome())
    for (const n of w.nics) expect(w.link(n).flags, n).toContain('UP')
    // Per device (by ifindex in the description's order): down comes first.
    const ops = r.json.steps.map((s) => s.op)
    expect(ops.filter((o) => o === 'down')).toHaveLength(3)
    expect(ops.filter((o) => o === 'up')).toHaveLength(3)
    expect(ops.filter((o) => o === 'rename')).toHaveLength(4)
    const firstRenameOf = (name: string) => r.json.steps.findIndex((s) => s.op === 'rename' && s.description.startsWith(`rename "${name}"`))
    const downOf = (name: string) => r.json.steps.findIndex((s) => s.op === 'down' && s.description === `set "${name}" down to rename it`)
    for (const n of ['eth1', 'eth2', 'eth3']) {
      expect(downOf(n), n).toBeGreaterThanOrEqual(0)
      expect(downOf(n), n).toBeLessThan(firstRenameOf(n))
    }
  })

  test('6.2+ kernel (NICBACK_RENAME_WHILE_UP=1): renamed while up, never taken down', async () => {
    const { w, dev } = returned()
    w.hostIp('link', 'set', dev, 'up')
    const { r, flagsAtRename } = await restoreWatched(w, { NICBACK_RENAME_WHILE_UP: '1' })
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.steps.map((s) => s.op)).toEqual(['rename'])
    expect(flagsAtRename).toContain('UP')
    expect(w.where()).toEqual(w.allHome())
    expect(w.link('eth2').flags).toContain('UP')
  })
})
