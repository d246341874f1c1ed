// What must not be given away to a container, and what --force overrides.
import { describe, expect, test } from 'vitest'
import { assignRefusals, type AssignFacts } from '../../../scripts/lib/plan/refusals.js'
import { entry, link } from '../helpers.js'

describe('refusals', () => {
  const pci = link('ens3', { bus: '0000:00:03.0', permAddr: '52:54:00:00:00:10', mac: '52:54:00:00:00:10' })
  const facts = (over: Partial<AssignFacts> = {}): AssignFacts => ({ hostName: 'ens3', link: pci, recorded: undefined, wireless: false, insideName: 'ens3', inside: [], where: 'container c1', ...over })

  test('a PCI NIC the host does not use: none', () => {
    expect(assignRefusals(facts({ use: { defaultRoute: false, addresses: [] } }))).toEqual({ fatal: [], overridable: [] })
  })

  test('what --force overrides: virtual, default route, host addresses, recorded as away', () => {
    const r = assignRefusals(
      facts({
        link: link('ens3'),
        use: { defaultRoute: true, addresses: ['192.0.2.7', '2001:db8::7'] },
        recorded: entry('ens3', { away: { since: 't', via: 'udev', leftAs: 'ens3' } }),
      }),
    )
    expect(r.fatal).toEqual([])
    expect(r.overridable).toHaveLength(4)
    expect(r.overridable.join('\n')).toMatch(/recorded it as away[^]*virtual device[^]*default route[^]*addresses 192\.0\.2\.7, 2001:db8::7/)
  })

  test('what nothing overrides: netns-local kinds, wireless, fallback names, a name taken inside', () => {
    expect(assignRefusals(facts({ link: link('br0', { kind: 'bridge' }), hostName: 'br0' })).fatal[0]).toContain('br0 is a bridge device')
    expect(assignRefusals(facts({ link: link('bond0', { kind: 'bond' }), hostName: 'bond0' })).fatal[0]).toContain('bond device')
    expect(assignRefusals(facts({ wireless: true })).fatal[0]).toContain('iw phy')
    expect(assignRefusals(facts({ hostName: 'dev3' })).fatal[0]).toContain('kernel fallback')
    // ...unless it was recorded under that name on purpose (record --force).
    expect(assignRefusals(facts({ hostName: 'dev3', recorded: entry('dev3') })).fatal).toEqual([])
    expect(assignRefusals(facts({ inside: [link('ens3')] })).fatal[0]).toContain('"ens3" is already a device in container c1: give it another name there with --as NAME')
    expect(assignRefusals(facts({ insideName: 'eth0', inside: [link('enp0s3', { altnames: ['eth0'] })] })).fatal[0]).toContain('"eth0" is already an altname of enp0s3 in container c1: choose another --as NAME')
    // lo is in every netns, though the NIC lists leave it out
    expect(assignRefusals(facts({ insideName: 'lo', inside: [] })).fatal[0]).toContain('"lo" is already a device in container c1')
    expect(assignRefusals(facts({ insideName: 'bad name' })).fatal[0]).toContain('not a valid interface name')
  })
})
