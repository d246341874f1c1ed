// A mover's hand-over, as the host saw it. Some tools that give a NIC to a
// container rename it on the host first and then move it (sriov-cni v2.x:
// `enp1s0v0` -> `temp_27`, then into the pod), so the host sees `move
// temp_27`, then `remove temp_27`: the name it leaves with is not its host
// name. An admin's rename that stays looks the same, but is not followed by
// the NIC leaving soon after. So a rename counts as part of a departure when
// the NIC leaves within HAND_OVER_MS of it; then the NIC leaves with the name
// it had before. Decided from what the host saw (the udev front's notes, or
// the agent's events), never from one tool's naming pattern. Pure.
import { isFallbackName } from '../facts/names.js'

/** How soon after a rename on the host a departure makes that rename part
 *  of the hand-over. A mover renames and moves in one go (milliseconds); the
 *  notes are written by udevd's workers, which lag behind under load. */
export const HAND_OVER_MS = 30_000

/** A rename seen on the host: a `move` event (DEVPATH_OLD -> INTERFACE). */
export interface HostRename {
  from: string
  to: string
  ifindex: number | null
  /** The NIC's bus identity, from DEVPATH. */
  bus: string
  /** When it was seen, in ms since the epoch. */
  atMs: number
}

/** One rename of a departure's hand-over, newest first. */
export interface HandOverStep {
  from: string
  to: string
  /** How long before the departure. */
  msBefore: number
}

/** The renames that led, one after the other, to the name `dep` leaves
 *  with, newest first: each no more than HAND_OVER_MS before the departure,
 *  of the same device (bus and ifindex). */
export function handOverChain(renames: readonly HostRename[], dep: { name: string; ifindex: number | null; bus: string | null }, atMs: number, windowMs = HAND_OVER_MS): HandOverStep[] {
  const mine = renames.filter((r) => r.bus === dep.bus && r.ifindex === dep.ifindex && r.atMs <= atMs && atMs - r.atMs <= windowMs).sort((a, b) => b.atMs - a.atMs)
  const chain: HandOverStep[] = []
  let name = dep.name
  let before = atMs
  for (const r of mine) {
    if (chain.length >= 8) break
    if (r.to !== name || r.atMs > before) continue
    chain.push({ from: r.from, to: r.to, msBefore: Math.max(0, Math.round(atMs - r.atMs)) })
    name = r.from
    before = r.atMs
  }
  return chain
}

/** Pure: the host name a NIC leaving as `leftAs` had before its hand-over,
 *  or null when the renames do not give one. Walking back from the name it
 *  left with: a name recorded for this NIC is its host name (the walk
 *  stops there, and there is nothing to change if it left under it:
 *  nicback's own rename home just before is not a hand-over); a kernel
 *  fallback or nicback temporary name is never a host name (the walk stops
 *  short of it); else the earliest name of the chain. */
export function nameBeforeHandOver(leftAs: string, chain: readonly HandOverStep[], recorded: readonly string[]): string | null {
  if (recorded.includes(leftAs)) return null
  let name: string | null = null
  for (const step of chain) {
    if (isFallbackName(step.from)) break
    name = step.from
    if (recorded.includes(name)) break
  }
  return name
}
