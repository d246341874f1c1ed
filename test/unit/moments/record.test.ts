// The record moment (moments/record.ts): what `nicback record`, install and
// the boot-time unit record, and what `nicback forget` takes out, in the
// registry file; the links from the in-memory kernel (test/unit/fake-kernel.ts).
import { describe, expect, it } from 'vitest'
import { nicsForgotten, nicsRecorded } from '../../../scripts/lib/moments/record.js'
import { loadRegistry, registryPath } from '../../../scripts/lib/state/registry.js'
import { FakeKernel } from '../fake-kernel.js'
import { link, useTempStateDir } from '../helpers.js'

describe('the record moment', () => {
  useTempStateDir()

  it('records every NIC on a bus, or exactly the devices named; a name that is no device is skipped, saying so', () => {
    const kernel = new FakeKernel([link('eth0', { ifindex: 2, bus: '0000:00:03.0' }), link('veth0', { ifindex: 3, bus: null, kind: 'veth', mac: '02:00:00:00:00:03' })])
    const all = nicsRecorded({ names: [], force: false, boot: false }, kernel)
    expect(all.registry).toBe(registryPath())
    expect(all.recorded.map((r) => r.name)).toEqual(['eth0'])
    expect(loadRegistry().nics.map((e) => e.name)).toEqual(['eth0'])
    const named = nicsRecorded({ names: ['veth0', 'eth9'], force: false, boot: false }, kernel)
    expect(named.recorded.map((r) => r.name)).toEqual(['veth0'])
    expect(named.skipped).toEqual([{ name: 'eth9', reason: 'no network device named eth9 in this network namespace' }])
    expect(loadRegistry().nics.map((e) => e.name)).toEqual(['eth0', 'veth0'])
  })

  it('forgets recorded names, and says which were not recorded', () => {
    const kernel = new FakeKernel([link('eth0', { ifindex: 2, bus: '0000:00:03.0' }), link('eth1', { ifindex: 4, bus: '0000:00:04.0', mac: '02:00:00:00:00:04' })])
    nicsRecorded({ names: [], force: false, boot: false }, kernel)
    const r = nicsForgotten(['eth1', 'eth7'])
    expect(r.forgotten).toHaveLength(1)
    expect(r.forgotten[0]).toMatch(/^eth1 /)
    expect(r.unknown).toEqual(['eth7'])
    expect(loadRegistry().nics.map((e) => e.name)).toEqual(['eth0'])
  })
})
