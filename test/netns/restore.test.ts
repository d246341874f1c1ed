// nicback restore against real kernel state: stand-in NICs lent to container
// namespaces, renamed there, handed back the way the kernel hands back a real
// NIC (world.ts), then brought home. Every assertion reads the host's links
// back from the kernel, by MAC.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { createWorld, destroyWorlds, ensureBuilt, type RestoreJson, type World } from './world.js'

beforeAll(ensureBuilt)
afterEach(destroyWorlds)

function recorded(n = 4): World {
  const w = createWorld({ nics: n })
  const r = w.nicback(['record', ...w.nics])
  expect(r.code, r.stderr).toBe(0)
  return w
}

const renames = (r: RestoreJson) => r.steps.filter((s) => s.op === 'rename')

describe('the seed: eth2 renamed eth0 inside a container', () => {
  test('comes back as dev<ifindex>; restore gives eth2 back, touches nothing else, and a second run has nothing to do', () => {
    const w = recorded()
    const before = Object.fromEntries(w.links().map((l) => [l.ifname, l.ifindex]))
    const ctr = w.container()
    w.lend(ctr, ['eth2'], { eth2: 'eth0' })
    expect(w.where()).toEqual({ eth0: 'eth0', eth1: 'eth1', eth2: null, eth3: 'eth3' })
    const idx = w.ifindexIn(ctr, 'eth2')
    expect(w.handBack(ctr)).toEqual({ eth2: `dev${idx}` })
    expect(w.link(`dev${idx}`).flags).not.toContain('UP')

    const r = w.nicbackJson<RestoreJson>(['restore'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.ok).toBe(true)
    expect(w.where()).toEqual(w.allHome())
    // Same devices as before it left, under the same names; eth2 is up again
    // as it was when recorded (the move took it down).
    expect(Object.fromEntries(w.links().map((l) => [l.ifname, l.ifindex]))).toEqual(before)
    expect(w.link('eth2').flags).toContain('UP')
    expect(r.json.nics.find((n) => n.name === 'eth2')).toMatchObject({ was: `dev${idx}`, now: 'eth2', outcome: 'restore', home: true })
    for (const n of ['eth0', 'eth1', 'eth3']) expect(r.json.nics.find((x) => x.name === n)).toMatchObject({ was: n, now: n, outcome: 'home' })

    const reg = w.registryText()
    const again = w.nicback(['restore'])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain('Nothing to restore')
    expect(w.where()).toEqual(w.allHome())
    expect(w.registryText()).toBe(reg)
    const third = w.nicbackJson<RestoreJson>(['restore'])
    expect(third.code).toBe(0)
    expect(third.json.steps).toEqual([])
    expect(third.json.nics.every((n) => n.outcome === 'home')).toBe(true)
  })

  test('its old ifindex taken meanwhile: back as dev<old ifindex> under a new ifindex; the device holding the old one is left alone', () => {
    const w = recorded()
    const ctr = w.container()
    const old = w.link('eth2').ifindex
    w.lend(ctr, ['eth2'], { eth2: 'eth0' })
    expect(w.ifindexIn(ctr, 'eth2')).toBe(old)
    // A device created while eth2 is away takes its ifindex.
    w.hostIp('link', 'add', 'eth7', 'index', String(old), 'type', 'veth', 'peer', 'name', 'q0', 'netns', w.wire)
    expect(w.link('eth7').ifindex).toBe(old)
    expect(w.handBack(ctr)).toEqual({ eth2: `dev${old}` })
    const back = w.link(`dev${old}`)
    expect(back.ifindex).not.toBe(old)

    const r = w.nicbackJson<RestoreJson>(['restore'])
    expect(r.code, r.stderr).toBe(0)
    expect(w.where()).toEqual(w.allHome())
    expect(w.link('eth2').ifindex).toBe(back.ifindex)
    expect(w.link('eth7').ifindex).toBe(old)
    // The registry now knows its new ifindex: a second run has nothing to do.
    expect(w.nicbackJson<RestoreJson>(['restore']).json.steps).toEqual([])
    const reg = JSON.parse(w.registryText()) as { nics: { name: string; ifindex: number }[] }
    expect(reg.nics.find((e) => e.name === 'eth2')!.ifindex).toBe(back.ifindex)
  })

  test('when dev<ifindex> is taken too, the NIC comes back as the lowest free dev%d, and only it is renamed', () => {
    const w = recorded()
    const ctr = w.container()
    w.lend(ctr, ['eth2'], { eth2: 'eth0' })
    const idx = w.ifindexIn(ctr, 'eth2')
    // A device nicback does not manage holds dev<ifindex>.
    w.hostIp('link', 'add', `dev${idx}`, 'type', 'veth', 'peer', 'name', 'q0', 'netns', w.wire)
    const foreign = w.link(`dev${idx}`)
    expect(w.handBack(ctr)).toEqual({ eth2: 'dev0' })

    const r = w.nicbackJson<RestoreJson>(['restore'])
    expect(r.code, r.stderr).toBe(0)
    expect(w.where()).toEqual(w.allHome())
    expect(w.link(`dev${idx}`)).toMatchObject({ ifindex: foreign.ifindex, address: foreign.address })
    expect(renames(r.json).map((s) => s.description)).toEqual(['rename "dev0" to "eth2"'])
  })
})

test('the recorded MTU and admin state come back too: eth2 (MTU 9000, up) and eth1 (recorded down)', () => {
  const w = createWorld({ nics: 4 })
  w.hostIp('link', 'set', 'eth2', 'mtu', '9000')
  w.hostIp('link', 'set', 'eth1', 'down')
  expect(w.nicback(['record', ...w.nics]).code).toBe(0)
  const [a, b] = [w.container('a'), w.container('b')]
  w.lend(a, ['eth2'], { eth2: 'eth0' })
  w.lend(b, ['eth1'], { eth1: 'eth0' })
  w.ip('-n', b, 'link', 'set', 'eth0', 'up')
  // The container changes what it likes; the move back takes them down.
  w.ip('-n', a, 'link', 'set', 'eth0', 'mtu', '1400')
  w.ip('-n', b, 'link', 'set', 'eth0', 'mtu', '1400')
  const devA = w.handBack(a).eth2!
  const devB = w.handBack(b).eth1!
  expect(w.link(devA).mtu).toBe(1400)
  expect(w.link(devB).flags).not.toContain('UP')

  const r = w.nicbackJson<RestoreJson>(['restore'])
  expect(r.code, r.stderr).toBe(0)
  expect(w.where()).toEqual(w.allHome())
  expect(w.link('eth2')).toMatchObject({ mtu: 9000 })
  expect(w.link('eth2').flags).toContain('UP')
  expect(w.link('eth1')).toMatchObject({ mtu: 1500 })
  expect(w.link('eth1').flags).not.toContain('UP')
  expect(
    r.json.steps
      .filter((s) => s.op !== 'rename')
      .map((s) => s.description)
      .sort(),
  ).toEqual(['set MTU of "eth1" to 1500 (was 1400)', 'set MTU of "eth2" to 9000 (was 1400)', 'set "eth2" up'].sort())
})

describe('a NIC back under a free name (eth2 renamed eth9 inside)', () => {
  function backAsEth9(): World {
    const w = recorded()
    const ctr = w.container()
    const reg = w.registryText()
    // udev's remove for a veth: the rule filters virtual devices and so does
    // `nicback udev` itself, so nothing marks eth2 as away here. Recording a
    // real NIC's departure through udev is covered by the VM tier.
    const idx = w.link('eth2').ifindex
    const u = w.nicback(['udev'], { ACTION: 'remove', INTERFACE: 'eth2', IFINDEX: String(idx), DEVPATH: '/devices/virtual/net/eth2' })
    expect(u.code, u.stderr).toBe(0)
    expect(w.registryText()).toBe(reg)
    w.lend(ctr, ['eth2'], { eth2: 'eth9' })
    expect(w.handBack(ctr)).toEqual({ eth2: 'eth9' })
    return w
  }

  test('plain restore leaves it alone: nicback did not see it leave and eth9 is not a fallback name', () => {
    const w = backAsEth9()
    const reg = w.registryText()
    const r = w.nicbackJson<RestoreJson>(['restore'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.steps).toEqual([])
    expect(r.json.nics.find((n) => n.name === 'eth2')).toMatchObject({ now: 'eth9', outcome: 'skipped', home: false })
    expect(r.json.nics.find((n) => n.name === 'eth2')!.reason).toMatch(/did not see it leave/)
    expect(w.where()).toEqual({ eth0: 'eth0', eth1: 'eth1', eth2: 'eth9', eth3: 'eth3' })
    expect(w.registryText()).toBe(reg)
  })

  test.each([
    ['by its recorded name', ['eth2']],
    ['by the name it has now', ['eth9']],
    ['with --all', ['--all']],
  ])('restore %s brings it home', (_, args) => {
    const w = backAsEth9()
    const r = w.nicbackJson<RestoreJson>(['restore', ...args])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.ok).toBe(true)
    expect(w.where()).toEqual(w.allHome())
    expect(renames(r.json).map((s) => s.description)).toEqual(['rename "eth9" to "eth2"'])
    expect(w.link('eth2').flags).toContain('UP')
  })

  test('restore of a name nicback never recorded fails and changes nothing', () => {
    const w = backAsEth9()
    const r = w.nicbackJson<RestoreJson>(['restore', 'eth7'])
    expect(r.code).toBe(1)
    expect(r.json.ok).toBe(false)
    expect(r.json.errors.join('\n')).toMatch(/eth7 is not a recorded NIC/)
    expect(w.where()).toEqual({ eth0: 'eth0', eth1: 'eth1', eth2: 'eth9', eth3: 'eth3' })
  })
})

test('two NICs both named eth0 in two containers both come back as dev<ifindex> and both go home', () => {
  const w = recorded()
  const [a, b] = [w.container('a'), w.container('b')]
  w.lend(a, ['eth1'], { eth1: 'eth0' })
  w.lend(b, ['eth2'], { eth2: 'eth0' })
  const [ia, ib] = [w.ifindexIn(a, 'eth1'), w.ifindexIn(b, 'eth2')]
  expect(w.handBack(a)).toEqual({ eth1: `dev${ia}` })
  expect(w.handBack(b)).toEqual({ eth2: `dev${ib}` })
  expect(w.where()).toEqual({ eth0: 'eth0', eth1: `dev${ia}`, eth2: `dev${ib}`, eth3: 'eth3' })

  const r = w.nicbackJson<RestoreJson>(['restore'])
  expect(r.code, r.stderr).toBe(0)
  expect(w.where()).toEqual(w.allHome())
  expect(renames(r.json)).toHaveLength(2)
  expect(r.json.nics.filter((n) => n.outcome === 'restore').map((n) => [n.name, n.was, n.home])).toEqual([
    ['eth1', `dev${ia}`, true],
    ['eth2', `dev${ib}`, true],
  ])
})

describe('a three-way cycle: eth1 back as eth2, eth2 as eth3, eth3 as eth1', () => {
  function cycled(): World {
    const w = recorded()
    const ctr = w.container()
    w.lend(ctr, ['eth1', 'eth2', 'eth3'], { eth1: 'eth2', eth2: 'eth3', eth3: 'eth1' })
    // Every host name is free when they return: they keep their inside names.
    expect(w.handBack(ctr)).toEqual({ eth1: 'eth2', eth2: 'eth3', eth3: 'eth1' })
    return w
  }

  test('plain restore skips them (ordinary names, departure not seen)', () => {
    const w = cycled()
    const r = w.nicbackJson<RestoreJson>(['restore'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.steps).toEqual([])
    expect(r.json.nics.filter((n) => n.outcome === 'skipped').map((n) => n.name)).toEqual(['eth1', 'eth2', 'eth3'])
    expect(w.where()).toEqual({ eth0: 'eth0', eth1: 'eth2', eth2: 'eth3', eth3: 'eth1' })
  })

  test.each([
    ['--all', ['--all']],
    ['one member by name (the others block it and are pulled in)', ['eth1']],
  ])('restore %s brings all three home through one temporary name', (_, args) => {
    const w = cycled()
    const r = w.nicbackJson<RestoreJson>(['restore', ...args])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.ok).toBe(true)
    expect(w.where()).toEqual(w.allHome())
    const steps = renames(r.json)
    const temporary = steps.filter((s) => s.description.includes('(temporary'))
    expect(temporary).toHaveLength(1)
    expect(temporary[0]!.description).toMatch(/to "nbtmp\d+"/)
    expect(steps).toHaveLength(4)
    // No temporary name is left behind.
    expect(w.links().filter((l) => l.ifname.startsWith('nbt'))).toEqual([])
  })
})

describe('a run that died half way', () => {
  test('a NIC left under a nicback temporary name is brought home', () => {
    const w = recorded()
    const ctr = w.container()
    w.lend(ctr, ['eth2'], { eth2: 'eth0' })
    const idx = w.ifindexIn(ctr, 'eth2')
    w.handBack(ctr)
    w.hostIp('link', 'set', `dev${idx}`, 'name', `nbtmp${idx}`)
    const r = w.nicbackJson<RestoreJson>(['restore'])
    expect(r.code, r.stderr).toBe(0)
    expect(w.where()).toEqual(w.allHome())
    expect(renames(r.json).map((s) => s.description)).toEqual([`rename "nbtmp${idx}" to "eth2"`])
  })

  test('a swap interrupted after parking one NIC is finished', () => {
    const w = recorded()
    const ctr = w.container()
    w.lend(ctr, ['eth1', 'eth2'], { eth1: 'eth2', eth2: 'eth1' })
    expect(w.handBack(ctr)).toEqual({ eth1: 'eth2', eth2: 'eth1' })
    // The first step of the swap's plan, then the run died: eth1's device is
    // parked, eth2's device still sits on "eth1".
    const parked = w.nicLink('eth1')!.ifindex
    w.hostIp('link', 'set', 'eth2', 'name', `nbtmp${parked}`)
    expect(w.where()).toEqual({ eth0: 'eth0', eth1: `nbtmp${parked}`, eth2: 'eth1', eth3: 'eth3' })

    const r = w.nicbackJson<RestoreJson>(['restore'])
    expect(r.code, r.stderr).toBe(0)
    expect(w.where()).toEqual(w.allHome())
    expect(renames(r.json).map((s) => s.description)).toEqual(['rename "eth1" to "eth2"', `rename "nbtmp${parked}" to "eth1"`])
  })
})

// LXC hands a phys NIC back under a random name (physXXXXXX) and renames it
// on the host; when that rename home fails, the NIC's own `add` event names a
// device that has been renamed since, and a rename into a plain name starts
// no run of its own (the front only notes it): the add must find the device
// by its ifindex.
describe('a udev add for a NIC renamed again on the host since its event', () => {
  test('is found by its ifindex and brought home', () => {
    const w = recorded()
    const reg = JSON.parse(w.registryText()) as { nics: { name: string; away: unknown }[] }
    reg.nics.find((e) => e.name === 'eth2')!.away = { since: new Date().toISOString(), via: 'udev', leftAs: 'eth2' }
    writeFileSync(join(w.state, 'registry.json'), `${JSON.stringify(reg)}\n`, { mode: 0o600 })
    const ctr = w.container()
    w.lend(ctr, ['eth2'], { eth2: 'eth0' })
    const back = w.handBack(ctr).eth2!
    const idx = w.link(back).ifindex
    w.hostIp('link', 'set', back, 'name', 'physAbC123')
    const u = w.nicback(['udev'], { ACTION: 'add', INTERFACE: back, IFINDEX: String(idx), DEVPATH: `/devices/pci0000:00/0000:00:03.0/net/${back}` })
    expect(u.code, u.stderr).toBe(0)
    expect(w.where()).toEqual(w.allHome())
  })
})
