// Day one (issue 20), moment two: a NIC back with no record gets the name
// the host's sources give it (udev's naming policy, sriov-cni's cache), on
// the in-memory kernel, with the sources stood in for; recorded only once
// home, with where the name came from; refused when another device holds
// the name or a recorded NIC has it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { NameSources } from '../../../scripts/lib/facts/name-sources.js'
import { nicReturns } from '../../../scripts/lib/moments/return.js'
import { loadRegistry, saveRegistry } from '../../../scripts/lib/state/registry.js'
import { loadCounters } from '../../../scripts/lib/state/counters.js'
import { log } from '../../../scripts/lib/system/log.js'
import type { Link, Registry, UnnamedNic } from '../../../scripts/lib/types.js'
import { FakeKernel } from '../fake-kernel.js'
import { entry, link, reg, useTempStateDir } from '../helpers.js'

vi.mock('../../../scripts/lib/apply/notify.js', () => ({ notifyNetworkManagers: vi.fn(() => true) }))
vi.mock('../../../scripts/lib/facts/udevdb.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../scripts/lib/facts/udevdb.js')>()),
  initializedUsec: () => null,
  stillWithUdev: () => [],
}))
/** What the host's sources say, by ifindex. */
const sources = new Map<number, NameSources>()
vi.mock('../../../scripts/lib/facts/name-sources.js', () => ({ hostNameSources: () => (l: Link) => sources.get(l.ifindex) ?? { policy: null, sriov: [] } }))

const pci = (slot: number) => `0000:00:${slot.toString(16).padStart(2, '0')}.0`
const nic = (slot: number, name: string, o: Partial<Link> = {}) => link(name, { ifindex: slot, bus: pci(slot), ...o })
const policy = (name: string): NameSources => ({ policy: { name, how: 'policy:path' }, sriov: [] })
/** Cache files, all written at one moment. */
const cached = (...names: string[]): NameSources => ({ policy: null, sriov: names.map((name, i) => ({ name, file: `/var/lib/cni/sriov/c${i}-net1`, mtimeMs: 1000 })) })
const unnamed = (slot: number): UnnamedNic => ({ bus: pci(slot), devPort: null, permAddr: null, mac: null, seenAt: '2024-01-01T00:00:00.000Z', netnsInode: 4026532000 + slot, where: 'pid 42 (pause)', insideName: 'net1' })

let kernel: FakeKernel
useTempStateDir()
beforeEach(() => sources.clear())
afterEach(() => vi.restoreAllMocks())
const start = (r: Registry, ...links: Link[]) => {
  saveRegistry(r)
  kernel = new FakeKernel(links)
}
const names = () => kernel.links().map((l) => l.name)

describe('a NIC back with no record', () => {
  it("devN gets udev's policy name, is recorded with its source once home, and the run says so", () => {
    start(reg(), nic(3, 'dev3', { altnames: ['enp0s3'] }))
    sources.set(3, policy('enp0s3'))
    const r = nicReturns({ select: { kind: 'returned' }, kernel })
    expect(names()).toEqual(['enp0s3'])
    expect(r.ok).toBe(true)
    expect(r.nics).toMatchObject([{ name: 'enp0s3', was: 'dev3', outcome: 'restore', home: true, source: 'policy' }])
    expect(r.nics[0]!.reason).toContain("udev's naming policy (policy:path)")
    expect(loadRegistry().nics).toMatchObject([{ name: 'enp0s3', bus: pci(3), foundBy: 'policy', away: null }])
    expect(loadCounters().found).toEqual({ policy: 1, 'sriov-cni': 0 })
  })

  it("no policy name: sriov-cni's cached name; two cache files of one moment that disagree: no name, said why", () => {
    start(reg(), nic(3, 'dev3'), nic(4, 'dev4'))
    sources.set(3, cached('vf3'))
    sources.set(4, cached('vf4', 'vf9'))
    const warn = vi.spyOn(log, 'warn').mockImplementation(() => {})
    const r = nicReturns({ select: { kind: 'returned' }, kernel })
    expect(names()).toEqual(['vf3', 'dev4'])
    expect(r.nics).toMatchObject([{ name: 'vf3', source: 'sriov-cni', home: true }])
    expect(loadRegistry().nics.map((e) => [e.name, e.foundBy])).toEqual([['vf3', 'sriov-cni']])
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('dev4 (bus 0000:00:04.0) came back with no record, and nicback has no name for it: sriov-cni\'s cache files written at the same moment name it "vf4"'),
      expect.objectContaining({ nic: 'dev4', fix: expect.stringContaining('ip link set dev dev4 name NAME && nicback record NAME') }),
    )
  })

  it('refused: a policy name another device holds (name or altname), or a recorded NIC has; nothing renamed or recorded', () => {
    start(reg(entry('eno1', { bus: pci(9), away: { since: 'x', via: 'udev', leftAs: 'eno1' } })), nic(3, 'dev3'), nic(4, 'dev4'), nic(5, 'dev5'), nic(6, 'ens6', { altnames: ['enp0s6'] }), nic(7, 'lan0'))
    sources.set(3, policy('lan0'))
    sources.set(4, policy('enp0s6'))
    sources.set(5, policy('eno1'))
    const warn = vi.spyOn(log, 'warn').mockImplementation(() => {})
    const r = nicReturns({ select: { kind: 'returned' }, kernel })
    expect(names()).toEqual(['dev3', 'dev4', 'dev5', 'ens6', 'lan0'])
    expect(r.steps).toEqual([])
    expect(loadRegistry().nics.map((e) => e.name)).toEqual(['eno1'])
    const why = warn.mock.calls.map((c) => c[0])
    expect(why).toEqual([
      expect.stringContaining('lan0 is the name of lan0 (ifindex 7) on the host: nicback never takes a name from another device'),
      expect.stringContaining('enp0s6 is an altname of ens6 (ifindex 6) on the host'),
      expect.stringContaining('eno1, the recorded name of another NIC (bus 0000:00:09.0)'),
    ])
  })

  it('one found name, two devices: the first gets it, the second is refused', () => {
    start(reg(), nic(3, 'dev3'), nic(4, 'dev4'))
    sources.set(3, policy('uplink0'))
    sources.set(4, policy('uplink0'))
    vi.spyOn(log, 'warn').mockImplementation(() => {})
    nicReturns({ select: { kind: 'returned' }, kernel })
    expect(names()).toEqual(['uplink0', 'dev4'])
    expect(loadRegistry().nics.map((e) => e.name)).toEqual(['uplink0'])
  })

  it('a device under a name an admin may have given (not devN, not seen away) is left alone', () => {
    start(reg(), nic(3, 'storage0'))
    sources.set(3, policy('enp0s3'))
    const r = nicReturns({ select: { kind: 'returned' }, kernel })
    expect(names()).toEqual(['storage0'])
    expect(r.nics).toEqual([])
    expect(loadRegistry().nics).toEqual([])
  })

  it('seen away at install, back under its container name (6.12, no clash): named, and no longer written down as away', () => {
    start({ ...reg(), unnamed: [unnamed(3), unnamed(8)] }, nic(3, 'net1'))
    sources.set(3, policy('enp0s3'))
    nicReturns({ select: { kind: 'returned' }, kernel })
    expect(names()).toEqual(['enp0s3'])
    expect(loadRegistry().unnamed).toEqual([unnamed(8)])
  })

  it('home already under the found name (a .link Name= that udev applied again): recorded, not renamed', () => {
    start({ ...reg(), unnamed: [unnamed(3)] }, nic(3, 'uplink0'))
    sources.set(3, { policy: { name: 'uplink0', how: 'link-file' }, sriov: [] })
    const r = nicReturns({ select: { kind: 'returned' }, kernel })
    expect(r.steps).toEqual([])
    expect(loadRegistry()).toMatchObject({ nics: [{ name: 'uplink0', foundBy: 'policy' }], unnamed: [] })
  })

  it('a rename the kernel refuses: the found name is not recorded, the next run tries again', () => {
    start(reg(), nic(3, 'dev3'))
    sources.set(3, policy('enp0s3'))
    kernel = new FakeKernel([nic(3, 'dev3')], { failures: [{ match: (c) => c.includes('name') && c.includes('enp0s3'), errno: 'EOTHER', text: 'Operation not permitted' }] })
    vi.spyOn(log, 'error').mockImplementation(() => {})
    const r = nicReturns({ select: { kind: 'returned' }, kernel })
    expect(r.ok).toBe(false)
    expect(names()).toEqual(['dev3'])
    expect(loadRegistry().nics).toEqual([])
  })

  it('two found names, the first rename refused by the kernel: the second NIC is recorded and reported as itself', () => {
    start(reg(entry('eth9', { bus: pci(9), away: { since: 'x', via: 'udev', leftAs: 'eth9' } })), nic(3, 'dev3'), nic(4, 'dev4'))
    sources.set(3, policy('enp0s3'))
    sources.set(4, policy('enp0s4'))
    kernel = new FakeKernel([nic(3, 'dev3'), nic(4, 'dev4')], { failures: [{ match: (c) => c.includes('enp0s3'), errno: 'EOTHER', text: 'Operation not permitted' }] })
    vi.spyOn(log, 'error').mockImplementation(() => {})
    const r = nicReturns({ select: { kind: 'returned' }, kernel })
    expect(names()).toEqual(['dev3', 'enp0s4'])
    expect(r.nics.filter((n) => n.source !== 'registry').map((n) => [n.name, n.was, n.now, n.home])).toEqual([
      ['enp0s3', 'dev3', 'dev3', false],
      ['enp0s4', 'dev4', 'enp0s4', true],
    ])
    expect(loadRegistry().nics.map((e) => [e.name, e.foundBy ?? null])).toEqual([
      ['enp0s4', 'policy'],
      ['eth9', null],
    ])
  })

  it('by hand, by its name: named; with no name found, an error that says why and what to run', () => {
    start(reg(), nic(3, 'eth7'), nic(4, 'dev4'))
    sources.set(3, policy('enp0s3'))
    vi.spyOn(log, 'warn').mockImplementation(() => {})
    expect(nicReturns({ select: { kind: 'names', names: ['eth7'] }, kernel })).toMatchObject({ ok: true, nics: [{ name: 'enp0s3', was: 'eth7', source: 'policy' }] })
    const r = nicReturns({ select: { kind: 'names', names: ['dev4'] }, kernel, dryRun: true })
    expect(r.ok).toBe(false)
    expect(r.errors).toContainEqual(expect.stringMatching(/^dev4 has no record, and nicback has no name for it: udev's naming policy gives it no name .*"ip link set dev dev4 name NAME && nicback record NAME"/))
  })

  it('a dry run says what it would do and writes nothing', () => {
    start(reg(), nic(3, 'dev3'))
    sources.set(3, policy('enp0s3'))
    const r = nicReturns({ select: { kind: 'returned' }, kernel, dryRun: true })
    expect(r.steps.map((s) => s.description)).toEqual(['rename "dev3" to "enp0s3"'])
    expect(r.nics).toMatchObject([{ name: 'enp0s3', source: 'policy' }])
    expect(names()).toEqual(['dev3'])
    expect(loadRegistry().nics).toEqual([])
  })
})
