// Day one, the pure part (plan/origin.ts): which devices came back, the
// name found for each from the host's sources in order, and the refusals.
import { describe, expect, it } from 'vitest'
import { adoptions, findHostName, ifaliasHint, looksReturned } from '../../../scripts/lib/plan/origin.js'
import type { NameSources } from '../../../scripts/lib/facts/name-sources.js'
import type { Link, UnnamedNic } from '../../../scripts/lib/types.js'
import { entry, link, NOW } from '../helpers.js'

const pci = (slot: number) => `0000:00:${slot.toString(16).padStart(2, '0')}.0`
const nic = (slot: number, name: string, o: Partial<Link> = {}) => link(name, { ifindex: slot, bus: pci(slot), ...o })
const none: NameSources = { policy: null, sriov: [] }
const policy = (name: string, how = 'policy:path'): NameSources => ({ policy: { name, how }, sriov: [] })
/** Cache files, each written after the one before it. */
const cache = (...names: string[]) => names.map((name, i) => ({ name, file: `/var/lib/cni/sriov/c${i}-net1`, mtimeMs: 1000 + i }))
const unnamed = (slot: number): UnnamedNic => ({ bus: pci(slot), devPort: null, permAddr: null, mac: null, seenAt: NOW, netnsInode: 7, where: 'pid 1 (x)', insideName: null })

describe('looksReturned', () => {
  it('a kernel fallback name, or seen away at install; a virtual device or an ordinary name is not', () => {
    expect(looksReturned(nic(3, 'dev3'), [])).toBe(true)
    expect(looksReturned(nic(3, 'net1'), [unnamed(3)])).toBe(true)
    expect(looksReturned(nic(3, 'net1'), [unnamed(4)])).toBe(false)
    expect(looksReturned(nic(3, 'storage0'), [])).toBe(false)
    expect(looksReturned(link('dev9', { bus: null }), [])).toBe(false)
  })
})

describe('findHostName', () => {
  const me = nic(3, 'dev3', { altnames: ['enp0s3'] })
  it("udev's policy first, then sriov-cni's cache; the device's own altname is no obstacle", () => {
    expect(findHostName(me, { policy: { name: 'enp0s3', how: 'policy:path' }, sriov: cache('vf0') }, [me], [])).toEqual({ name: 'enp0s3', foundBy: 'policy', how: "udev's naming policy (policy:path)" })
    expect(findHostName(me, { policy: null, sriov: cache('vf0', 'vf0') }, [me], [])).toEqual({ name: 'vf0', foundBy: 'sriov-cni', how: "sriov-cni's cache (/var/lib/cni/sriov/c1-net1)" })
  })

  it('nothing: why, and the command to run', () => {
    const f = findHostName(me, none, [me], [])
    expect(f).toMatchObject({ name: null, fix: 'if you know its host name, give it and record it: "ip link set dev dev3 name NAME && nicback record NAME"' })
    expect(f.name === null && f.why).toMatch(/^udev's naming policy gives it no name/)
  })

  it("refused: held by another device as a name or an altname, a recorded NIC's name, two cache files that disagree", () => {
    const other = nic(4, 'lan0', { altnames: ['uplink0'] })
    expect(findHostName(me, policy('lan0'), [me, other], [])).toMatchObject({ name: null, why: expect.stringContaining('lan0 is the name of lan0 (ifindex 4)') })
    expect(findHostName(me, policy('uplink0'), [me, other], [])).toMatchObject({ name: null, why: expect.stringContaining('uplink0 is an altname of lan0 (ifindex 4)') })
    expect(findHostName(me, policy('eno1'), [me], [entry('eno1', { bus: pci(9) })])).toMatchObject({
      name: null,
      why: expect.stringContaining("the recorded name of another NIC (bus 0000:00:09.0): nicback never gives a recorded NIC's name to another"),
    })
  })

  it('sriov-cni: the newest file (the last ADD) decides; two written at one moment that disagree, or a devN or temp_N name, give none', () => {
    expect(findHostName(me, { policy: null, sriov: cache('old0', 'vf0') }, [me], [])).toMatchObject({ name: 'vf0', how: "sriov-cni's cache (/var/lib/cni/sriov/c1-net1)" })
    expect(findHostName(me, { policy: null, sriov: [...cache('a'), { name: 'b', file: '/var/lib/cni/sriov/z-net1', mtimeMs: 1000 }] }, [me], [])).toMatchObject({
      name: null,
      why: expect.stringContaining('sriov-cni\'s cache files written at the same moment name it "a"'),
    })
    expect(findHostName(me, { policy: null, sriov: cache('vf0', 'dev12') }, [me], [])).toMatchObject({ name: null, why: expect.stringContaining('names it "dev12", a name the kernel or a mover gives a NIC that is not home') })
    expect(findHostName(me, { policy: null, sriov: cache('temp_7') }, [me], [])).toMatchObject({ name: null })
  })

  it("a policy name that is refused is not replaced by the cache: the host's policy decides", () => {
    const other = nic(4, 'lan0')
    expect(findHostName(me, { policy: { name: 'lan0', how: 'policy:path' }, sriov: cache('vf0') }, [me, other], [])).toMatchObject({ name: null })
  })
})

describe('ifaliasHint', () => {
  it('a hint only; one that names a host NIC says so', () => {
    expect(ifaliasHint(nic(3, 'dev3', { ifalias: 'eth2' }), [])).toBe('its ifalias says "eth2" (the CNI host-device plugin keeps the host name there, but a container can set it: a hint, never acted on)')
    expect(ifaliasHint(nic(3, 'dev3', { ifalias: 'eth0' }), [nic(4, 'eth0')])).toBe('its ifalias says "eth0", the name of eth0 on the host: ignored (a container can set an ifalias)')
    expect(ifaliasHint(nic(3, 'dev3', { ifalias: 'not a name' }), [])).toBeNull()
    expect(ifaliasHint(nic(3, 'dev3', { ifalias: null }), [])).toBeNull()
  })
})

describe('adoptions', () => {
  it('only picked devices with no record; the ifalias is never used', () => {
    const links = [nic(3, 'dev3', { ifalias: 'eth2' }), nic(4, 'dev4'), nic(5, 'ens5'), link('veth0', { bus: null })]
    const a = adoptions(
      links,
      [entry('ens5', { bus: pci(5) })],
      (l) => (l.ifindex === 4 ? policy('enp0s4') : none),
      () => true,
      NOW,
    )
    expect(a.map((x) => [x.link.name, x.found.name, x.entry?.name ?? null, x.entry?.foundBy ?? null])).toEqual([
      ['dev3', null, null, null],
      ['dev4', 'enp0s4', 'enp0s4', 'policy'],
    ])
    expect(
      adoptions(
        links,
        [],
        () => policy('x'),
        (l) => l.name === 'dev4',
        NOW,
      ).map((x) => x.link.name),
    ).toEqual(['dev4'])
  })
})
