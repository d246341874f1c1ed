// What `nicback record` does to the registry (pure: no system).
import { describe, expect, it } from 'vitest'
import { entryFromLink, recordLinks, writeDownAway } from '../../../scripts/lib/plan/record.js'
import { emptyRegistry } from '../../../scripts/lib/state/registry.js'
import type { Away, Entry, Link, Registry } from '../../../scripts/lib/types.js'

const T0 = '2024-01-01T00:00:00.000Z'
const NOW = '2024-06-01T12:00:00.000Z'
const bus = (slot: number) => `0000:00:${slot.toString(16).padStart(2, '0')}.0`
const AWAY: Away = { since: T0, via: 'udev', leftAs: 'eth2' }

function link(ifindex: number, name: string, o: Partial<Link> = {}): Link {
  return {
    ifindex,
    name,
    altnames: [],
    ifalias: null,
    driver: 'e1000',
    kind: null,
    up: true,
    mtu: 1500,
    bus: bus(ifindex),
    devPort: null,
    permAddr: `52:54:00:00:00:${ifindex.toString(16).padStart(2, '0')}`,
    mac: `52:54:00:00:00:${ifindex.toString(16).padStart(2, '0')}`,
    ...o,
  }
}
function entry(slot: number, name: string, o: Partial<Entry> = {}): Entry {
  return { ...entryFromLink(link(slot, name), T0), ...o }
}
const reg = (...nics: Entry[]): Registry => ({ ...emptyRegistry(), nics })
const names = (r: Registry) => r.nics.map((e) => [e.name, e.bus])
const plain = { force: false, boot: false }

describe('entryFromLink', () => {
  it('keeps identity, MTU and admin state, and is home', () => {
    expect(entryFromLink(link(3, 'eth0', { devPort: 1, up: false, mtu: 9000 }), NOW)).toEqual({
      name: 'eth0',
      bus: bus(3),
      devPort: 1,
      permAddr: '52:54:00:00:00:03',
      mac: '52:54:00:00:00:03',
      ifindex: 3,
      driver: 'e1000',
      mtu: 9000,
      up: false,
      recordedAt: NOW,
      away: null,
    })
  })
})

describe('recordLinks', () => {
  it('records each NIC under its name, sorted, and reports its identity', () => {
    const r = reg()
    const res = recordLinks(r, [link(4, 'eth1'), link(3, 'eth0')], plain, NOW)
    expect(res).toEqual({
      recorded: [
        { name: 'eth1', identity: `bus ${bus(4)}`, replaced: [] },
        { name: 'eth0', identity: `bus ${bus(3)}`, replaced: [] },
      ],
      skipped: [],
      away: [],
    })
    expect(r.nics).toEqual([entryFromLink(link(3, 'eth0'), NOW), entryFromLink(link(4, 'eth1'), NOW)])
  })

  it('replaces the entry of the same NIC when recorded again (no duplicates)', () => {
    const r = reg(entry(3, 'eth0'))
    recordLinks(r, [link(3, 'lan0', { mtu: 9000 })], plain, NOW)
    expect(r.nics).toEqual([entryFromLink(link(3, 'lan0', { mtu: 9000 }), NOW)])
  })

  it('says which other NIC it displaced from the name', () => {
    const r = reg(entry(9, 'eth0'))
    const res = recordLinks(r, [link(3, 'eth0')], plain, NOW)
    expect(res.recorded).toEqual([{ name: 'eth0', identity: `bus ${bus(3)}`, replaced: [`eth0 (bus ${bus(9)})`] }])
    expect(names(r)).toEqual([['eth0', bus(3)]])
  })

  it('skips kernel fallback and temporary names unless forced', () => {
    for (const name of ['dev3', 'nbtmp3', 'nbt3x2']) {
      const r = reg()
      const res = recordLinks(r, [link(3, name), link(4, 'eth1')], plain, NOW)
      expect(res.skipped).toEqual([{ name, reason: expect.stringContaining('is a kernel fallback or nicback temporary name') }])
      expect(res.skipped[0]!.reason).toContain('--force')
      expect(names(r)).toEqual([['eth1', bus(4)]])
      const f = reg()
      expect(recordLinks(f, [link(3, name)], { force: true, boot: false }, NOW).skipped).toEqual([])
      expect(names(f)).toEqual([[name, bus(3)]])
    }
  })

  it('does not overwrite a NIC recorded as away that is here under another name, unless forced', () => {
    const away = entry(3, 'eth2', { away: AWAY })
    const r = reg(away)
    const res = recordLinks(r, [link(3, 'eth9')], plain, NOW)
    expect(res.recorded).toEqual([])
    expect(res.skipped).toEqual([{ name: 'eth9', reason: expect.stringContaining('is recorded as eth2, which left the host (udev)') }])
    expect(r.nics).toEqual([away])

    const f = reg(entry(3, 'eth2', { away: AWAY }))
    recordLinks(f, [link(3, 'eth9')], { force: true, boot: false }, NOW)
    expect(f.nics).toEqual([entryFromLink(link(3, 'eth9'), NOW)])
  })

  it('records a NIC recorded as away that is here under its recorded name (it is home)', () => {
    const r = reg(entry(3, 'eth2', { away: AWAY }))
    recordLinks(r, [link(3, 'eth2')], plain, NOW)
    expect(r.nics).toEqual([entryFromLink(link(3, 'eth2'), NOW)])
  })

  it('at boot forgets where every NIC went, including those not seen now', () => {
    const r = reg(entry(3, 'eth2', { away: AWAY }), entry(5, 'eth5', { away: { ...AWAY, leftAs: 'eth5' } }))
    const res = recordLinks(r, [link(3, 'ens3')], { force: false, boot: true }, NOW)
    expect(res.skipped).toEqual([])
    expect(r.nics).toEqual([entryFromLink(link(3, 'ens3'), NOW), entry(5, 'eth5')])
    expect(r.nics.every((e) => e.away === null)).toBe(true)
  })

  it('at boot still skips fallback names', () => {
    const r = reg(entry(3, 'eth2', { away: AWAY }))
    const res = recordLinks(r, [link(3, 'dev3')], { force: false, boot: true }, NOW)
    expect(res.skipped.map((s) => s.name)).toEqual(['dev3'])
    expect(r.nics).toEqual([entry(3, 'eth2')])
  })
})

describe('recordLinks and a name promised to a NIC that is away', () => {
  it("does not give an away NIC's name to another NIC without --force", () => {
    const r = reg(entry(3, 'eth2', { away: AWAY }))
    const res = recordLinks(r, [link(5, 'eth2')], plain, NOW)
    expect(res.recorded).toEqual([])
    expect(res.skipped[0]!.reason).toMatch(/recorded name of another NIC .* that is away/)
    expect(names(r)).toEqual([['eth2', bus(3)]])
  })
  it('gives it with --force, and says which NIC was forgotten', () => {
    const r = reg(entry(3, 'eth2', { away: AWAY }))
    const res = recordLinks(r, [link(5, 'eth2')], { force: true, boot: false }, NOW)
    expect(res.recorded[0]!.replaced).toEqual([`eth2 (bus ${bus(3)})`])
    expect(names(r)).toEqual([['eth2', bus(5)]])
  })
  it('at boot nothing is away any more, so the name goes to the NIC that has it', () => {
    const r = reg(entry(3, 'eth2', { away: AWAY }))
    const res = recordLinks(r, [link(5, 'eth2')], { force: false, boot: true }, NOW)
    expect(res.skipped).toEqual([])
    expect(names(r)).toEqual([['eth2', bus(5)]])
  })
})

describe('day one: NICs away with no record (issue 20)', () => {
  const seen = (slot: number, name: string) => ({ link: link(slot, name), netnsInode: 4026532000 + slot, where: `pid ${slot} (pause)` })

  it('writeDownAway: what identifies each and where it is; not a recorded NIC, not a device without a bus; once per NIC', () => {
    const r = reg(entry(3, 'eth0'))
    const out = writeDownAway(r, [seen(3, 'net1'), seen(4, 'net1'), { ...seen(5, 'x'), link: link(5, 'veth0', { bus: null }) }, seen(4, 'net2')], NOW)
    expect(out).toEqual([
      { identity: `bus ${bus(4)}`, where: 'pid 4 (pause)' },
      { identity: `bus ${bus(4)}`, where: 'pid 4 (pause)' },
    ])
    expect(r.unnamed).toEqual([{ bus: bus(4), devPort: null, permAddr: '52:54:00:00:00:04', mac: '52:54:00:00:00:04', seenAt: NOW, netnsInode: 4026532004, where: 'pid 4 (pause)', insideName: 'net2' }])
  })

  it('a name in there that is not a valid interface name is not kept', () => {
    const r = reg()
    writeDownAway(r, [{ ...seen(4, 'x'), link: link(4, 'a/b') }], NOW)
    expect(r.unnamed![0]!.insideName).toBeNull()
  })

  it('recording a NIC home drops it from the NICs with no name; --boot forgets them all', () => {
    const r = reg()
    writeDownAway(r, [seen(4, 'net1'), seen(5, 'net1')], NOW)
    recordLinks(r, [link(4, 'enp0s4')], plain, NOW)
    expect(r.unnamed!.map((u) => u.bus)).toEqual([bus(5)])
    recordLinks(r, [], { force: false, boot: true }, NOW)
    expect(r.unnamed).toBeUndefined()
  })

  it("onlyNew (the agent's start): a recorded NIC under another name is not recorded again", () => {
    const r = reg(entry(3, 'eth0'))
    const res = recordLinks(r, [link(3, 'eth9'), link(4, 'eth1')], { ...plain, onlyNew: true }, NOW)
    expect(res.recorded.map((x) => x.name)).toEqual(['eth1'])
    expect(names(r)).toEqual([
      ['eth0', bus(3)],
      ['eth1', bus(4)],
    ])
  })
})
