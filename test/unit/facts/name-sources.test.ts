// The host's sources of a name, composed (facts/name-sources.ts): udev's
// policy per device, sriov-cni's cache read once and only when asked.
import { describe, expect, it, vi } from 'vitest'
import { hostNameSources } from '../../../scripts/lib/facts/name-sources.js'
import { readSriovCache } from '../../../scripts/lib/facts/sriov-cache.js'
import { link } from '../helpers.js'

vi.mock('../../../scripts/lib/facts/policy.js', () => ({ policyName: (ifindex: number) => (ifindex === 3 ? { name: 'enp0s3', how: 'policy:path' } : null) }))
vi.mock('../../../scripts/lib/facts/sriov-cache.js', () => ({
  readSriovCache: vi.fn(() => ({ byBus: new Map([['0000:01:10.0', [{ name: 'vf0', file: 'f', mtimeMs: 1 }]]]), refused: [{ file: 'g', why: 'the file belongs to uid 1000, not root' }] })),
}))

describe('hostNameSources', () => {
  it('policy by ifindex, the cache by bus; the cache read once, its refusals told once', () => {
    const refused = vi.fn()
    const of = hostNameSources(refused)
    expect(readSriovCache).not.toHaveBeenCalled()
    expect(of(link('dev3', { ifindex: 3, bus: '0000:00:03.0' }))).toEqual({ policy: { name: 'enp0s3', how: 'policy:path' }, sriov: [] })
    expect(of(link('dev9', { ifindex: 9, bus: '0000:01:10.0' }))).toEqual({ policy: null, sriov: [{ name: 'vf0', file: 'f', mtimeMs: 1 }] })
    expect(of(link('veth0', { ifindex: 10, bus: null }))).toEqual({ policy: null, sriov: [] })
    expect(readSriovCache).toHaveBeenCalledTimes(1)
    expect(refused.mock.calls).toEqual([['g', 'the file belongs to uid 1000, not root']])
  })
})
