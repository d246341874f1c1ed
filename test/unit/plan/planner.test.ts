// The rename planner, alone: hand-made worlds with the exact steps expected,
// then random worlds run through a model of the kernel (the property test).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isValidIfname } from '../../../scripts/lib/facts/names.js'
import { planHomeFromScratch, planRestore, type Decision, type Plan, type PlanOptions, type Step } from '../../../scripts/lib/plan/planner.js'
import { wanted, type Selection } from '../../../scripts/lib/moments/return.js'
import type { Away, Entry, Link } from '../../../scripts/lib/types.js'

// ---------------------------------------------------------------- builders

const pci = (slot: number) => `0000:00:${slot.toString(16).padStart(2, '0')}.0`
const macOf = (n: number) => `52:54:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`

/** A PCI NIC in slot `ifindex` (identity follows the ifindex, for brevity). */
function nic(ifindex: number, name: string, o: Partial<Link> = {}): Link {
  return {
    ifindex,
    name,
    altnames: [],
    ifalias: null,
    driver: 'e1000',
    kind: null,
    up: false,
    mtu: 1500,
    bus: pci(ifindex),
    devPort: null,
    permAddr: null,
    mac: macOf(ifindex),
    ...o,
  }
}

/** A device nicback does not manage: a veth, no bus, its own MAC. */
function foreign(ifindex: number, name: string, o: Partial<Link> = {}): Link {
  return nic(ifindex, name, { bus: null, driver: 'veth', kind: 'veth', mac: macOf(0x100 + ifindex), ...o })
}

const AWAY: Away = { since: '2024-01-01T00:00:00.000Z', via: 'udev', leftAs: 'x' }

/** The entry recorded for the NIC in slot `slot`, under `name`. */
function entry(slot: number, name: string, o: Partial<Entry> = {}): Entry {
  return {
    name,
    bus: pci(slot),
    devPort: null,
    permAddr: null,
    mac: macOf(slot),
    ifindex: slot,
    driver: 'e1000',
    mtu: 1500,
    up: false,
    recordedAt: '2024-01-01T00:00:00.000Z',
    away: { ...AWAY, leftAs: name },
    ...o,
  }
}

const all: PlanOptions = { want: () => true, renameWhileUp: true }
const sel = (s: Selection, renameWhileUp = true): PlanOptions => ({ want: wanted(s), renameWhileUp })
const outcomes = (p: Plan) => p.decisions.map((d) => [d.name, d.outcome])
const rename = (ifindex: number, from: string, to: string, temporary = false): Step => ({ op: 'rename', ifindex, from, to, temporary })

// ---------------------------------------------------------------- a model of the kernel

interface Dev {
  ifindex: number
  name: string
  altnames: string[]
  up: boolean
  mtu: number
  mac: string | null
}

class KernelError extends Error {}

/** Applies steps the way the kernel (through `ip`, which addresses devices by
 *  name) would, and refuses what the kernel refuses. */
class Kernel {
  readonly devs: Dev[]
  readonly touched = new Set<number>()
  constructor(
    links: readonly Link[],
    readonly renameWhileUp: boolean,
  ) {
    this.devs = links.map((l) => ({ ifindex: l.ifindex, name: l.name, altnames: [...l.altnames], up: l.up, mtu: l.mtu, mac: l.mac }))
  }

  private taken(name: string): boolean {
    return this.devs.some((d) => d.name === name || d.altnames.includes(name))
  }

  apply(step: Step): void {
    // Loose view, so a step kind added to the planner lands in `default`.
    const s = step as { op: string; ifindex: number; dev?: string; from?: string; to?: string; altname?: string; mtu?: number; mac?: string }
    const addressed = s.op === 'rename' ? s.from : s.dev
    const d = this.devs.find((x) => x.name === addressed)
    if (d === undefined) throw new KernelError(`ENODEV: no device named ${addressed}`)
    if (d.ifindex !== s.ifindex) throw new KernelError(`${addressed} is ifindex ${d.ifindex}, the step says ${s.ifindex}`)
    this.touched.add(d.ifindex)
    switch (s.op) {
      case 'rename': {
        const to = s.to!
        if (!isValidIfname(to)) throw new KernelError(`EINVAL: ${to}`)
        if (to === d.name) throw new KernelError(`rename of ${d.name} to itself`)
        if (this.taken(to)) throw new KernelError(`EEXIST: ${d.name} -> ${to}`)
        if (!this.renameWhileUp && d.up) throw new KernelError(`EBUSY: ${d.name} is up`)
        d.name = to
        return
      }
      case 'altname-del':
        if (!d.altnames.includes(s.altname!)) throw new KernelError(`ENOENT: ${d.name} has no altname ${s.altname}`)
        d.altnames = d.altnames.filter((a) => a !== s.altname)
        return
      case 'down':
        d.up = false
        return
      case 'up':
        d.up = true
        return
      case 'mtu':
        d.mtu = s.mtu!
        return
      case 'mac':
        d.mac = s.mac!
        return
      default:
        throw new KernelError(`unknown step ${s.op}`)
    }
  }

  /** The devices as links again, for a second plan. */
  links(before: readonly Link[]): Link[] {
    return before.map((l) => {
      const d = this.devs.find((x) => x.ifindex === l.ifindex)!
      return { ...l, name: d.name, altnames: [...d.altnames], up: d.up, mtu: d.mtu, mac: d.mac }
    })
  }

  name(ifindex: number): string {
    return this.devs.find((d) => d.ifindex === ifindex)!.name
  }
}

function run(links: Link[], plan: Plan, renameWhileUp: boolean): Kernel {
  const k = new Kernel(links, renameWhileUp)
  for (const s of plan.names) k.apply(s)
  for (const s of plan.settings) k.apply(s)
  return k
}

// ---------------------------------------------------------------- examples

describe('planRestore: examples', () => {
  it('gives a NIC back as devN its recorded name, then its admin state', () => {
    const links = [nic(3, 'dev3')]
    const p = planRestore(links, [entry(3, 'eth2', { up: true })], sel({ kind: 'returned' }))
    expect(p.names).toEqual([rename(3, 'dev3', 'eth2')])
    expect(p.settings).toEqual([{ op: 'up', ifindex: 3, dev: 'eth2' }])
    expect(p.decisions).toEqual([{ name: 'eth2', ifindex: 3, now: 'dev3', outcome: 'restore', reason: 'dev3 -> eth2', settings: true }])
    expect(run(links, p, true).name(3)).toBe('eth2')
  })

  describe('a NIC back under its container-side name (free on the host)', () => {
    const links = [nic(3, 'eth9'), nic(4, 'eth0')]
    const entries = [entry(3, 'ens3'), entry(4, 'eth0', { away: null })]

    it('is restored when it was seen leaving (returned)', () => {
      const p = planRestore(links, entries, sel({ kind: 'returned' }))
      expect(p.names).toEqual([rename(3, 'eth9', 'ens3')])
      expect(outcomes(p)).toEqual([
        ['ens3', 'restore'],
        ['eth0', 'home'],
      ])
    })

    it('is not touched by "returned" when nicback did not see it leave and its name looks ordinary', () => {
      const p = planRestore(links, [entry(3, 'ens3', { away: null })], sel({ kind: 'returned' }))
      expect(p.names).toEqual([])
      expect(p.settings).toEqual([])
      expect(p.decisions[0]!.outcome).toBe('skipped')
      expect(p.decisions[0]!.reason).toMatch(/restore it by name or with --all/)
    })

    it('is restored when named, by recorded or by current name', () => {
      for (const names of [['ens3'], ['eth9']]) {
        const p = planRestore(links, [entry(3, 'ens3', { away: null })], sel({ kind: 'names', names }))
        expect(p.names).toEqual([rename(3, 'eth9', 'ens3')])
        expect(p.decisions[0]!.outcome).toBe('restore')
      }
    })

    it('is skipped when another NIC is named', () => {
      const p = planRestore(links, entries, sel({ kind: 'names', names: ['eth0'] }))
      expect(p.names).toEqual([])
      expect(outcomes(p)).toEqual([
        ['ens3', 'skipped'],
        ['eth0', 'home'],
      ])
      expect(p.decisions[0]!.reason).toBe('not selected')
    })
  })

  it('swaps two managed NICs through a temporary name', () => {
    const links = [nic(2, 'eth1'), nic(3, 'eth0')]
    const p = planRestore(links, [entry(2, 'eth0'), entry(3, 'eth1')], all)
    expect(p.names).toEqual([rename(2, 'eth1', 'nbtmp2', true), rename(3, 'eth0', 'eth1'), rename(2, 'nbtmp2', 'eth0')])
    expect(outcomes(p)).toEqual([
      ['eth0', 'restore'],
      ['eth1', 'restore'],
    ])
    const k = run(links, p, true)
    expect([k.name(2), k.name(3)]).toEqual(['eth0', 'eth1'])
  })

  it('breaks a 3-cycle with one temporary name', () => {
    const links = [nic(2, 'eth1'), nic(3, 'eth2'), nic(4, 'eth0')]
    const p = planRestore(links, [entry(2, 'eth0'), entry(3, 'eth1'), entry(4, 'eth2')], all)
    expect(p.names).toEqual([rename(2, 'eth1', 'nbtmp2', true), rename(3, 'eth2', 'eth1'), rename(4, 'eth0', 'eth2'), rename(2, 'nbtmp2', 'eth0')])
    const k = run(links, p, true)
    expect([k.name(2), k.name(3), k.name(4)]).toEqual(['eth0', 'eth1', 'eth2'])
  })

  it('picks another temporary name when nbtmpN is taken', () => {
    const links = [nic(2, 'eth1'), nic(3, 'eth0'), foreign(9, 'nbtmp2', { altnames: ['nbt2x1'] })]
    const p = planRestore(links, [entry(2, 'eth0'), entry(3, 'eth1')], all)
    expect(p.names).toEqual([rename(2, 'eth1', 'nbt2x2', true), rename(3, 'eth0', 'eth1'), rename(2, 'nbt2x2', 'eth0')])
    run(links, p, true)
  })

  it("drops udev's altname on the recorded name before the rename", () => {
    const links = [nic(3, 'dev3', { altnames: ['enp0s3', 'ens3'] })]
    const p = planRestore(links, [entry(3, 'ens3')], all)
    expect(p.names).toEqual([{ op: 'altname-del', ifindex: 3, dev: 'dev3', altname: 'ens3' }, rename(3, 'dev3', 'ens3')])
    const k = run(links, p, true)
    expect(k.devs[0]).toMatchObject({ name: 'ens3', altnames: ['enp0s3'] })
    // Without the drop, the kernel says EEXIST: the model agrees.
    expect(() => new Kernel(links, true).apply(rename(3, 'dev3', 'ens3'))).toThrow(/EEXIST/)
  })

  it('never takes a name from a device it does not manage', () => {
    const links = [nic(3, 'dev3'), foreign(7, 'eth0', { up: true })]
    const p = planRestore(links, [entry(3, 'eth0', { up: true })], sel({ kind: 'returned' }, false))
    expect(p.names).toEqual([])
    expect(p.settings).toEqual([])
    expect(p.decisions[0]).toMatchObject({ outcome: 'conflict', now: 'dev3', settings: false })
    expect(p.decisions[0]!.reason).toMatch(/eth0 \(ifindex 7\), a device nicback does not manage/)
  })

  it("never takes a name that is another device's altname", () => {
    const links = [nic(3, 'dev3'), foreign(7, 'veth7', { altnames: ['eth0'] })]
    const p = planRestore(links, [entry(3, 'eth0')], all)
    expect(p.names).toEqual([])
    expect(p.decisions[0]!.outcome).toBe('conflict')
    expect(p.decisions[0]!.reason).toMatch(/"eth0" is an altname of veth7/)
  })

  it('leaves every NIC of a chain that ends at a foreign device where it is', () => {
    // eth2 waits for eth1 (on B), B waits for eth0 (on A), A waits for eth0... held by a veth.
    const links = [nic(2, 'eth1'), nic(3, 'eth2'), nic(4, 'dev4'), foreign(9, 'eth0')]
    const entries = [entry(2, 'eth0'), entry(3, 'eth1'), entry(4, 'eth2')]
    for (const opts of [all, sel({ kind: 'names', names: ['eth2'] }), sel({ kind: 'returned' }, false)]) {
      const p = planRestore(links, entries, opts)
      expect(p.names).toEqual([])
      expect(p.settings).toEqual([])
      expect(outcomes(p)).toEqual([
        ['eth0', 'conflict'],
        ['eth1', 'conflict'],
        ['eth2', 'conflict'],
      ])
      expect(p.decisions.map((d) => d.now)).toEqual(['eth1', 'eth2', 'dev4'])
      expect(p.decisions[1]!.reason).toMatch(/held by eth1 .* which cannot move/)
    }
  })

  it('brings an unselected NIC that sits on a wanted name home with it (closure)', () => {
    // eth1 (now dev5) is wanted; eth0's NIC sits on "eth1" and is free to go home.
    const links = [nic(2, 'eth1'), nic(5, 'dev5')]
    const p = planRestore(links, [entry(2, 'eth0', { away: null }), entry(5, 'eth1')], sel({ kind: 'names', names: ['dev5'] }))
    expect(p.names).toEqual([rename(2, 'eth1', 'eth0'), rename(5, 'dev5', 'eth1')])
    expect(outcomes(p)).toEqual([
      ['eth0', 'restore'],
      ['eth1', 'restore'],
    ])
  })

  describe('an UP NIC', () => {
    const links = [nic(3, 'dev3', { up: true })]

    it('is taken down before the rename and up after when the kernel refuses to rename it up', () => {
      const p = planRestore(links, [entry(3, 'eth0', { up: true })], sel({ kind: 'returned' }, false))
      expect(p.names).toEqual([{ op: 'down', ifindex: 3, dev: 'dev3' }, rename(3, 'dev3', 'eth0')])
      expect(p.settings).toEqual([{ op: 'up', ifindex: 3, dev: 'eth0' }])
      expect(run(links, p, false).devs[0]).toMatchObject({ name: 'eth0', up: true })
      expect(() => new Kernel(links, false).apply(rename(3, 'dev3', 'eth0'))).toThrow(/EBUSY/)
    })

    it('is set up again after the rename even when recorded down (it was up before nicback)', () => {
      const p = planRestore(links, [entry(3, 'eth0', { up: false })], sel({ kind: 'returned' }, false))
      expect(p.names).toEqual([{ op: 'down', ifindex: 3, dev: 'dev3' }, rename(3, 'dev3', 'eth0')])
      expect(p.settings).toEqual([{ op: 'up', ifindex: 3, dev: 'eth0' }])
    })

    it('is renamed without a down when the kernel allows it', () => {
      const p = planRestore(links, [entry(3, 'eth0', { up: true })], sel({ kind: 'returned' }, true))
      expect(p.names).toEqual([rename(3, 'dev3', 'eth0')])
      expect(p.settings).toEqual([])
    })

    it('swapped with another UP NIC: each taken down once, each up once at the end', () => {
      const two = [nic(2, 'eth1', { up: true }), nic(3, 'eth0', { up: true })]
      const p = planRestore(two, [entry(2, 'eth0', { up: null }), entry(3, 'eth1', { up: null })], { want: () => true, renameWhileUp: false })
      expect(p.names).toEqual([{ op: 'down', ifindex: 2, dev: 'eth1' }, rename(2, 'eth1', 'nbtmp2', true), { op: 'down', ifindex: 3, dev: 'eth0' }, rename(3, 'eth0', 'eth1'), rename(2, 'nbtmp2', 'eth0')])
      expect(p.settings).toEqual([
        { op: 'up', ifindex: 2, dev: 'eth0' },
        { op: 'up', ifindex: 3, dev: 'eth1' },
      ])
      const k = run(two, p, false)
      expect(k.devs.map((d) => [d.name, d.up])).toEqual([
        ['eth0', true],
        ['eth1', true],
      ])
    })
  })

  it('brings home a NIC left under a temporary name by a run that died', () => {
    for (const tmp of ['nbtmp7', 'nbt7x1']) {
      const links = [nic(7, tmp)]
      const p = planRestore(links, [entry(7, 'eth3', { away: null })], sel({ kind: 'returned' }))
      expect(p.names).toEqual([rename(7, tmp, 'eth3')])
      expect(p.decisions[0]!.outcome).toBe('restore')
    }
  })

  it('refuses a name recorded for two NICs', () => {
    const p = planRestore([nic(3, 'dev3'), nic(4, 'dev4')], [entry(3, 'eth0'), entry(4, 'eth0')], all)
    expect(p.names).toEqual([])
    expect(outcomes(p)).toEqual([
      ['eth0', 'conflict'],
      ['eth0', 'conflict'],
    ])
    expect(p.decisions[0]!.reason).toMatch(/recorded for 2 NICs/)
    // One of them home already: the other never takes its name.
    const q = planRestore([nic(3, 'eth0'), nic(4, 'dev4')], [entry(3, 'eth0'), entry(4, 'eth0')], all)
    expect(q.names).toEqual([])
    expect(outcomes(q)).toEqual([
      ['eth0', 'home'],
      ['eth0', 'conflict'],
    ])
  })

  it('does not guess when the identity is ambiguous', () => {
    // A two-port function recorded without dev_port, and neither port matches the ifindex or name hint.
    const links = [nic(5, 'dev5', { bus: pci(3), devPort: 0 }), nic(6, 'dev6', { bus: pci(3), devPort: 1 })]
    const p = planRestore(links, [entry(3, 'eth0', { ifindex: 3 })], all)
    expect(p.names).toEqual([])
    expect(p.settings).toEqual([])
    expect(p.decisions[0]).toMatchObject({ outcome: 'ambiguous', ifindex: null, now: null })
    expect(p.decisions[0]!.reason).toMatch(/2 devices match bus 0000:00:03.0: dev5, dev6/)
    // The hint narrows it: the recorded ifindex is one of them.
    const q = planRestore(links, [entry(3, 'eth0', { ifindex: 6 })], all)
    expect(q.names).toEqual([rename(6, 'dev6', 'eth0')])
  })

  it('does not guess when two entries claim one device', () => {
    const links = [nic(3, 'dev3', { permAddr: macOf(3) })]
    const p = planRestore(links, [entry(3, 'eth0'), entry(99, 'eth1', { bus: null, permAddr: macOf(3) })], all)
    expect(p.names).toEqual([])
    expect(outcomes(p)).toEqual([
      ['eth0', 'ambiguous'],
      ['eth1', 'ambiguous'],
    ])
  })

  describe('settings', () => {
    it('restores the MTU and the admin state of a NIC that came back, after the renames', () => {
      const links = [nic(3, 'dev3', { mtu: 1500 })]
      const p = planRestore(links, [entry(3, 'eth0', { mtu: 9000, up: true })], sel({ kind: 'returned' }))
      expect(p.names).toEqual([rename(3, 'dev3', 'eth0')])
      expect(p.settings).toEqual([
        { op: 'mtu', ifindex: 3, dev: 'eth0', mtu: 9000, was: 1500 },
        { op: 'up', ifindex: 3, dev: 'eth0' },
      ])
      expect(run(links, p, true).devs[0]).toMatchObject({ name: 'eth0', mtu: 9000, up: true })
    })

    it('restores them for a NIC that came back under its own name', () => {
      const p = planRestore([nic(3, 'eth0', { mtu: 1500 })], [entry(3, 'eth0', { mtu: 9000, up: true })], sel({ kind: 'returned' }))
      expect(p.names).toEqual([])
      expect(p.settings).toEqual([
        { op: 'mtu', ifindex: 3, dev: 'eth0', mtu: 9000, was: 1500 },
        { op: 'up', ifindex: 3, dev: 'eth0' },
      ])
      expect(p.decisions[0]).toMatchObject({ outcome: 'home', settings: true })
    })

    it('leaves them alone for a NIC that never left, for one recorded down, and when nothing is known', () => {
      expect(planRestore([nic(3, 'eth0', { mtu: 1500 })], [entry(3, 'eth0', { mtu: 9000, up: true, away: null })], sel({ kind: 'returned' })).settings).toEqual([])
      expect(planRestore([nic(3, 'dev3', { up: false })], [entry(3, 'eth0', { up: false })], all).settings).toEqual([])
      expect(planRestore([nic(3, 'dev3', { up: false })], [entry(3, 'eth0', { up: null, mtu: null })], all).settings).toEqual([])
    })

    it('are not touched for a NIC in conflict', () => {
      const p = planRestore([nic(3, 'dev3'), foreign(7, 'eth0')], [entry(3, 'eth0', { mtu: 9000, up: true })], all)
      expect(p.settings).toEqual([])
    })
  })

  it('refuses invalid recorded names and leaves the NIC as it is', () => {
    for (const bad of ['eth0:1', 'a-name-of-16-chr', 'a b', 'x/y', '..', '']) {
      const p = planRestore([nic(3, 'dev3')], [entry(3, bad)], all)
      expect(p.names).toEqual([])
      expect(p.decisions[0]).toMatchObject({ outcome: 'conflict', now: 'dev3' })
      expect(p.decisions[0]!.reason).toMatch(/not a valid interface name/)
    }
  })

  it('reports a NIC that is not here as away, and a home NIC as home', () => {
    const p = planRestore([nic(4, 'eth1')], [entry(3, 'eth0', { away: { ...AWAY, leftAs: 'eth0', container: { name: 'web' } } }), entry(4, 'eth1', { away: null })], all)
    expect(p.names).toEqual([])
    expect(p.decisions).toEqual<Decision[]>([
      { name: 'eth0', ifindex: null, now: null, outcome: 'away', reason: `left as eth0 via udev at ${AWAY.since} to web`, settings: false },
      { name: 'eth1', ifindex: 4, now: 'eth1', outcome: 'home', reason: 'already under its recorded name', settings: false },
    ])
  })
})

// ---------------------------------------------------------------- property

const REC_POOL = ['eth0', 'eth1', 'eth2', 'eth3', 'eth4', 'eth5', 'ens3', 'ens4', 'ens5', 'ens6', 'dev3', 'enp0s3', 'lan0', 'wan0']
// Altnames may also sit on nicback's temporary names.
const ALT_POOL = [...REC_POOL, 'nbtmp2', 'nbtmp3', 'nbtmp4', 'nbt2x1', 'nbt3x1']
const NOW_POOL = [...REC_POOL, 'eth9', 'dev2', 'dev4', 'dev5', 'dev7', 'nbtmp2', 'nbtmp3', 'nbtmp5', 'nbt3x1', 'nbt4x1']

interface World {
  links: Link[]
  entries: Entry[]
  managed: Map<number, Entry> // ifindex -> its entry
  foreignIdx: Set<number>
  want: PlanOptions['want']
  renameWhileUp: boolean
}

const nicSpec = fc.record({
  now: fc.oneof(
    { weight: 2, arbitrary: fc.constant<'rec'>('rec') },
    // Another managed NIC's recorded name: swaps and longer cycles.
    { weight: 3, arbitrary: fc.nat(11) },
    { weight: 3, arbitrary: fc.constantFrom(...NOW_POOL) },
  ),
  alt: fc.subarray(ALT_POOL, { maxLength: 3 }),
  altOwn: fc.boolean(),
  up: fc.boolean(),
  mtu: fc.constantFrom(1500, 9000),
  recUp: fc.constantFrom(null, true, false),
  recMtu: fc.constantFrom(null, 1500, 9000),
  away: fc.boolean(),
  wanted: fc.boolean(),
})

const worldArb = fc
  .record({
    n: fc.integer({ min: 1, max: 12 }),
    recs: fc.shuffledSubarray(REC_POOL, { minLength: 12, maxLength: 12 }),
    nics: fc.array(nicSpec, { minLength: 12, maxLength: 12 }),
    foreign: fc.array(fc.record({ name: fc.constantFrom(...NOW_POOL), alt: fc.subarray(ALT_POOL, { maxLength: 2 }), up: fc.boolean() }), { maxLength: 3 }),
    awayOnly: fc.integer({ min: 0, max: 2 }),
    ifindexes: fc.shuffledSubarray(
      Array.from({ length: 20 }, (_, i) => i + 2),
      { minLength: 20, maxLength: 20 },
    ),
    order: fc.array(fc.nat(), { minLength: 20, maxLength: 20 }),
    selection: fc.constantFrom('all', 'returned', 'subset'),
    renameWhileUp: fc.boolean(),
  })
  .map((g): World => {
    const names = new Set<string>()
    const alts = new Set<string>()
    const free = (n: string) => !names.has(n) && !alts.has(n)
    const links: Link[] = []
    const entries: Entry[] = []
    const managed = new Map<number, Entry>()
    const chosen = new Set<string>()
    const recs = g.recs.slice(0, g.n)
    // Names first (all devices), altnames after: altnames are distinct from every name.
    const devs: { ifindex: number; name: string; spec: (typeof g.nics)[number] | null; fspec: (typeof g.foreign)[number] | null }[] = []
    recs.forEach((rec, i) => {
      const spec = g.nics[i]!
      const ifindex = g.ifindexes[i]!
      let name = spec.now === 'rec' ? rec : typeof spec.now === 'number' ? recs[spec.now % recs.length]! : spec.now
      if (names.has(name)) name = `dev${ifindex}` // what the kernel does on a clash
      if (names.has(name)) name = `dev${100 + i}`
      names.add(name)
      devs.push({ ifindex, name, spec, fspec: null })
    })
    g.foreign.forEach((f, j) => {
      if (names.has(f.name)) return
      names.add(f.name)
      devs.push({ ifindex: g.ifindexes[12 + j]!, name: f.name, spec: null, fspec: f })
    })
    devs.forEach((d, i) => {
      const wish = d.spec ? [...(d.spec.altOwn ? [recs[i]!] : []), ...d.spec.alt] : d.fspec!.alt
      const altnames = wish.filter((a, k) => free(a) && wish.indexOf(a) === k)
      for (const a of altnames) alts.add(a)
      if (d.spec) {
        const s = d.spec
        const rec = recs[i]!
        const link = nic(d.ifindex, d.name, { bus: pci(0x10 + i), mac: macOf(0x10 + i), altnames, up: s.up, mtu: s.mtu })
        const e = entry(0x10 + i, rec, { ifindex: d.ifindex, up: s.recUp, mtu: s.recMtu, away: s.away ? { ...AWAY, leftAs: rec } : null })
        links.push(link)
        entries.push(e)
        managed.set(d.ifindex, e)
        if (s.wanted) chosen.add(rec)
      } else {
        links.push(foreign(d.ifindex, d.name, { altnames, up: d.fspec!.up, mac: macOf(0x200 + i) }))
      }
    })
    // Entries of NICs that are away (not in this netns), names from the unused part of the pool.
    g.recs.slice(g.n, g.n + g.awayOnly).forEach((rec, j) => entries.push(entry(0x40 + j, rec)))
    const shuffle = <T>(xs: T[]) =>
      xs
        .map((x, i) => [g.order[i % g.order.length]! + i / 100, x] as const)
        .sort((a, b) => a[0] - b[0])
        .map((p) => p[1])
    const want: PlanOptions['want'] = g.selection === 'all' ? () => true : g.selection === 'returned' ? wanted({ kind: 'returned' }) : (e) => chosen.has(e.name)
    return {
      links: shuffle(links),
      entries: shuffle(entries),
      managed,
      foreignIdx: new Set(links.filter((l) => l.kind === 'veth').map((l) => l.ifindex)),
      want,
      renameWhileUp: g.renameWhileUp,
    }
  })

/** What the plan must decide, worked out independently of the planner. */
function expectedOutcomes(w: World): Map<Entry, 'home' | 'restore' | 'conflict' | 'skipped' | 'away'> {
  const byName = new Map(w.links.map((l) => [l.name, l]))
  const altOwner = new Map(w.links.flatMap((l) => l.altnames.map((a) => [a, l] as const)))
  const linkOf = new Map([...w.managed].map(([ifindex, e]) => [e, w.links.find((l) => l.ifindex === ifindex)!]))
  // The managed NIC sitting on e's recorded name, or 'blocked' / null (free).
  const next = (e: Entry): Entry | 'blocked' | null => {
    const l = linkOf.get(e)!
    const h = byName.get(e.name)
    const a = altOwner.get(e.name)
    // Another device's altname blocks it only on a device nicback does not
    // manage: a managed NIC's altname on it is nicback's to drop (issue 8).
    if (a !== undefined && a !== l && w.foreignIdx.has(a.ifindex)) return 'blocked'
    if (h === undefined) return null
    if (w.foreignIdx.has(h.ifindex)) return 'blocked'
    return w.managed.get(h.ifindex)!
  }
  const restorable = (e: Entry): boolean => {
    const seen = new Set<Entry>()
    for (let cur: Entry | 'blocked' | null = e; ;) {
      if (cur === null) return true
      if (cur === 'blocked') return false
      if (seen.has(cur)) return true // a cycle of managed NICs: broken with a temporary name
      seen.add(cur)
      cur = next(cur)
    }
  }
  const reached = new Set<Entry>()
  for (const e of linkOf.keys()) {
    const l = linkOf.get(e)!
    if (l.name === e.name || !w.want(e, l)) continue
    for (let cur: Entry | 'blocked' | null = e; cur !== null && cur !== 'blocked' && !reached.has(cur); cur = next(cur)) reached.add(cur)
  }
  const out = new Map<Entry, 'home' | 'restore' | 'conflict' | 'skipped' | 'away'>()
  for (const e of w.entries) {
    const l = linkOf.get(e)
    out.set(e, l === undefined ? 'away' : l.name === e.name ? 'home' : !reached.has(e) ? 'skipped' : restorable(e) ? 'restore' : 'conflict')
  }
  return out
}

describe('planRestore: property', () => {
  it('on random worlds, the plan runs on the kernel model, is complete, touches only managed NICs, and is idempotent', () => {
    let restored = 0
    let cycles = 0
    let conflicts = 0
    let altDrops = 0
    let downs = 0
    fc.assert(
      fc.property(worldArb, (w) => {
        const opts = { want: w.want, renameWhileUp: w.renameWhileUp }
        const plan = planRestore(w.links, w.entries, opts)
        const k = new Kernel(w.links, w.renameWhileUp)
        for (const s of plan.names) k.apply(s) // throws on EEXIST, EBUSY, a wrong name...
        for (const s of plan.settings) k.apply(s)
        for (const i of k.touched) expect(w.foreignIdx.has(i), `step on foreign ifindex ${i}`).toBe(false)

        const expected = expectedOutcomes(w)
        expect(plan.decisions.map((d) => d.outcome)).toEqual(w.entries.map((e) => expected.get(e)))

        for (const [i, d] of w.entries.entries()) {
          const decision = plan.decisions[i]!
          expect(decision.name).toBe(d.name)
          const ifindex = [...w.managed].find(([, e]) => e === d)?.[0]
          if (ifindex === undefined) continue
          const before = w.links.find((l) => l.ifindex === ifindex)!
          const dev = k.devs.find((x) => x.ifindex === ifindex)!
          if (decision.outcome === 'restore' || decision.outcome === 'home') expect(dev.name).toBe(d.name)
          else expect(dev.name).toBe(before.name)
          // Admin state: what it was, or up when it came back recorded up.
          expect(dev.up).toBe(before.up || (decision.settings && d.up === true))
          expect(dev.mtu).toBe(decision.settings && d.mtu !== null ? d.mtu : before.mtu)
        }
        for (const l of w.links.filter((x) => w.foreignIdx.has(x.ifindex))) {
          expect(k.devs.find((d) => d.ifindex === l.ifindex)).toEqual({ ifindex: l.ifindex, name: l.name, altnames: l.altnames, up: l.up, mtu: l.mtu, mac: l.mac })
        }
        // Temporary names are only ever a stop on the way.
        expect(k.devs.filter((d) => !w.foreignIdx.has(d.ifindex)).every((d) => !/^nbt/.test(d.name) || w.links.some((l) => l.name === d.name && l.ifindex === d.ifindex))).toBe(true)

        const again = planRestore(k.links(w.links), w.entries, opts)
        expect(again.names).toEqual([])
        expect(again.settings).toEqual([])

        restored += plan.decisions.filter((d) => d.outcome === 'restore').length
        conflicts += plan.decisions.filter((d) => d.outcome === 'conflict').length
        if (plan.names.some((s) => s.op === 'rename' && s.temporary)) cycles++
        if (plan.names.some((s) => s.op === 'altname-del')) altDrops++
        if (plan.names.some((s) => s.op === 'down')) downs++
      }),
      { numRuns: 2000 },
    )
    // The generator really produces the hard cases.
    expect(restored).toBeGreaterThan(1000)
    expect(conflicts).toBeGreaterThan(100)
    expect(cycles).toBeGreaterThan(50)
    expect(altDrops).toBeGreaterThan(50)
    expect(downs).toBeGreaterThan(50)
  })
})

describe('planHomeFromScratch: a pulled-out NIC from the scratch netns home', () => {
  const it_ = { ifindex: 7, name: 'eth0', mac: '02:00:00:00:99:99' }
  it('its MAC back when the container changed it, named there first, then moved to the host under that name', () => {
    const p = planHomeFromScratch(it_, '52:54:00:00:00:07', 'ens7', "nicback's scratch namespace", '/proc/1/ns/net')
    expect(p.mac).toEqual({ op: 'mac', ifindex: 7, dev: 'eth0', mac: '52:54:00:00:00:07', was: '02:00:00:00:99:99' })
    expect(p.home).toEqual([
      { op: 'rename', ifindex: 7, from: 'eth0', to: 'ens7', temporary: false },
      { op: 'netns', ifindex: 7, dev: 'ens7', to: '/proc/1/ns/net', where: 'the host', from: "nicback's scratch namespace", name: 'ens7' },
    ])
  })
  it('its own MAC, or none known: no MAC step; already under the name: no rename', () => {
    expect(planHomeFromScratch(it_, '02:00:00:00:99:99', 'eth0', 's', '/h').mac).toBeNull()
    expect(planHomeFromScratch(it_, null, 'eth0', 's', '/h')).toEqual({ mac: null, home: [{ op: 'netns', ifindex: 7, dev: 'eth0', to: '/h', where: 'the host', from: 's', name: 'eth0' }] })
  })
})
