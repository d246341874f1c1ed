// A mover's hand-over (plan/handover.ts): which host renames are part of a
// departure, and the name the NIC had before them. Pure.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { handOverChain, HAND_OVER_MS, nameBeforeHandOver, type HostRename } from '../../../scripts/lib/plan/handover.js'

const BUS = '0000:01:10.0'
const T = 1_700_000_000_000
const rn = (from: string, to: string, atMs: number, o: Partial<HostRename> = {}): HostRename => ({ from, to, ifindex: 3, bus: BUS, atMs, ...o })
const leaving = { name: 'temp_3', ifindex: 3, bus: BUS }

describe('handOverChain', () => {
  it('takes the rename to the name it leaves with, when it came soon before', () => {
    expect(handOverChain([rn('enp1s0v0', 'temp_3', T)], leaving, T + 15)).toEqual([{ from: 'enp1s0v0', to: 'temp_3', msBefore: 15 }])
  })

  it("an admin's rename that stays: one made long before the NIC leaves is not part of it", () => {
    expect(handOverChain([rn('enp1s0v0', 'temp_3', T)], leaving, T + HAND_OVER_MS + 1)).toEqual([])
    expect(handOverChain([rn('enp1s0v0', 'temp_3', T)], leaving, T + 3_600_000)).toEqual([])
  })

  it("ignores another device's renames (other bus or ifindex), renames to other names, and renames after the departure", () => {
    expect(handOverChain([rn('enp1s0v1', 'temp_3', T, { bus: '0000:01:10.2' })], leaving, T + 5)).toEqual([])
    expect(handOverChain([rn('enp1s0v0', 'temp_3', T, { ifindex: 4 })], leaving, T + 5)).toEqual([])
    expect(handOverChain([rn('enp1s0v0', 'other', T)], leaving, T + 5)).toEqual([])
    expect(handOverChain([rn('enp1s0v0', 'temp_3', T + 10)], leaving, T + 5)).toEqual([])
  })

  it('follows several renames back, newest first', () => {
    const r = [rn('a', 'b', T), rn('b', 'temp_3', T + 2), rn('dev7', 'a', T - 5)]
    expect(handOverChain(r, leaving, T + 3).map((s) => `${s.from}>${s.to}`)).toEqual(['b>temp_3', 'a>b', 'dev7>a'])
  })

  it('fuzz: every step is of this device, within the window, and links to the next', () => {
    const name = fc.constantFrom('a', 'b', 'c', 'temp_3', 'dev3')
    fc.assert(
      fc.property(fc.array(fc.record({ from: name, to: name, ifindex: fc.constantFrom(3, 4), bus: fc.constantFrom(BUS, 'x'), atMs: fc.integer({ min: T - 60_000, max: T + 1000 }) }), { maxLength: 30 }), (renames) => {
        const chain = handOverChain(renames, leaving, T)
        expect(chain.length).toBeLessThanOrEqual(8)
        let to = leaving.name
        for (const s of chain) {
          expect(s.to).toBe(to)
          expect(s.msBefore).toBeGreaterThanOrEqual(0)
          expect(s.msBefore).toBeLessThanOrEqual(HAND_OVER_MS)
          to = s.from
        }
      }),
    )
  })
})

describe('nameBeforeHandOver', () => {
  const step = (from: string, to: string) => ({ from, to, msBefore: 1 })

  it('is the name before the rename', () => {
    expect(nameBeforeHandOver('temp_3', [step('enp1s0v0', 'temp_3')], [])).toBe('enp1s0v0')
    expect(nameBeforeHandOver('temp_3', [], ['enp1s0v0'])).toBeNull()
  })

  it('never a devN or temporary name: a NIC taken again while back as devN keeps its record', () => {
    expect(nameBeforeHandOver('temp_3', [step('dev3', 'temp_3')], ['enp1s0v0'])).toBeNull()
    expect(nameBeforeHandOver('temp_3', [step('nbtmp3', 'temp_3')], [])).toBeNull()
    expect(nameBeforeHandOver('temp_3', [step('b', 'temp_3'), step('dev3', 'b')], [])).toBe('b')
  })

  it("stops at the NIC's recorded name: nicback's rename home just before (net1 -> enp1s0v0) is not part of the hand-over", () => {
    expect(nameBeforeHandOver('temp_3', [step('enp1s0v0', 'temp_3'), step('net1', 'enp1s0v0')], ['enp1s0v0'])).toBe('enp1s0v0')
    expect(nameBeforeHandOver('temp_3', [step('b', 'temp_3'), step('a', 'b')], [])).toBe('a')
  })

  // Seen in the VM: a VF back as net1 was renamed home by nicback, and
  // sriov-cni main (no host rename) took it 1.3 s later: it left under its
  // recorded name, which stays.
  it('a NIC that leaves under its recorded name keeps it, whatever renames came before', () => {
    expect(nameBeforeHandOver('enp1s0v0', [step('net1', 'enp1s0v0')], ['enp1s0v0'])).toBeNull()
  })
})
