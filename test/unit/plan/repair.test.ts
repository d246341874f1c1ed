// Issue 16: records an earlier nicback wrote under sriov-cni v2's hand-over
// name (temp_<ifindex>) get the host's name back. Pure.
import { describe, expect, it } from 'vitest'
import { handOverRepairs } from '../../../scripts/lib/plan/repair.js'
import type { Link } from '../../../scripts/lib/types.js'
import { entry, link } from '../helpers.js'

const VF = '0000:01:10.0'
const vf = (name: string, o: Partial<Link> = {}) => link(name, { ifindex: 27, bus: VF, ...o })
const rec = (name: string, o = {}) => entry(name, { ifindex: 27, bus: VF, ...o })
const policy = (name: string | null) => () => (name === null ? null : { name, how: 'policy:path' })

describe('handOverRepairs', () => {
  it('a VF recorded as temp_<its ifindex> gets the name of udev policy, with why', () => {
    const [r] = handOverRepairs([rec('temp_27')], [vf('temp_27')], policy('enp1s0v0'))
    expect(r).toMatchObject({ from: 'temp_27', to: 'enp1s0v0', how: 'policy:path' })
    expect(r!.message).toMatch(/; the name udev's naming policy gives it is enp1s0v0 \(policy:path\)$/)
  })

  it('also when the VF is back under another name (net1, devN)', () => {
    expect(handOverRepairs([rec('temp_27', { away: { since: 'x', via: 'udev', leftAs: 'temp_27' } })], [vf('net1')], policy('enp1s0v0'))).toHaveLength(1)
  })

  it('nothing a user did by hand: another number, another pattern, a NIC that is not on the host, no policy name', () => {
    expect(handOverRepairs([rec('temp_5')], [vf('temp_5')], policy('enp1s0v0'))).toEqual([])
    expect(handOverRepairs([rec('tmp_27')], [vf('tmp_27')], policy('enp1s0v0'))).toEqual([])
    expect(handOverRepairs([rec('temp_27')], [], policy('enp1s0v0'))).toEqual([])
    expect(handOverRepairs([rec('temp_27')], [vf('temp_27')], policy(null))).toEqual([])
  })

  it("never takes a recorded NIC's name, nor one another device holds as name or altname", () => {
    const other = entry('enp1s0v0', { ifindex: 28, bus: '0000:01:10.2' })
    expect(handOverRepairs([rec('temp_27'), other], [vf('temp_27')], policy('enp1s0v0'))).toEqual([])
    expect(handOverRepairs([rec('temp_27')], [vf('temp_27'), link('enp1s0v0', { ifindex: 40, bus: 'x' })], policy('enp1s0v0'))).toEqual([])
    expect(handOverRepairs([rec('temp_27')], [vf('temp_27'), link('x', { ifindex: 40, bus: 'x', altnames: ['enp1s0v0'] })], policy('enp1s0v0'))).toEqual([])
    // its own altname is no obstacle: the restore drops it
    expect(handOverRepairs([rec('temp_27')], [vf('temp_27', { altnames: ['enp1s0v0'] })], policy('enp1s0v0'))).toHaveLength(1)
  })
})
