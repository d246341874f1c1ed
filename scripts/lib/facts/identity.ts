// Which recorded NIC is which device now. Only what a container cannot forge
// decides: the bus position (+ dev_port) or the permanent MAC. The current MAC
// decides only for devices that have neither (veth stand-ins recorded by
// name); name, ifalias and ifindex are hints used to break ties.
import type { Identity } from '../types.js'

/** A stable string for an identity, for logs and uniqueness. */
export function identityKey(id: Identity): string {
  if (id.bus !== null) return `bus ${id.bus}${id.devPort === null ? '' : ` port ${id.devPort}`}`
  if (id.permAddr !== null) return `permaddr ${id.permAddr}`
  return `mac ${id.mac ?? 'none'}`
}

/** Whether a recorded identity rests on the current MAC alone, which a
 *  container can set on any device of its own. */
export function macOnly(id: Identity): boolean {
  return id.bus === null && id.permAddr === null
}

/** Whether `rec` (remembered) and `dev` (seen now) are the same NIC. */
export function sameNic(rec: Identity, dev: Identity): boolean {
  if (rec.bus !== null) {
    return dev.bus === rec.bus && (rec.devPort === null || dev.devPort === null || dev.devPort === rec.devPort)
  }
  if (rec.permAddr !== null) return dev.permAddr === rec.permAddr
  // No unforgeable identity was known when it was recorded: only a device that
  // has neither a bus nor a permanent MAC may claim it by its MAC. Two such
  // devices with one MAC are never told apart by guessing (matchNics: the
  // recorded ifindex and name may break the tie, else it is ambiguous).
  return macOnly(dev) && rec.mac !== null && dev.mac === rec.mac
}

export interface Match<R, D> {
  /** Each remembered NIC's device now, when exactly one device is it. */
  found: Map<R, D>
  /** Remembered NICs for which the evidence points at several devices, or a
   *  device claimed by several remembered NICs: nicback does not guess. */
  ambiguous: Map<R, string>
}

/** Pairs remembered NICs with devices one to one. `hint` (same ifindex, same
 *  name) narrows a bus match that lacks dev_port. */
export function matchNics<R extends Identity & { ifindex: number | null; name: string }, D extends Identity & { ifindex: number; name: string }>(recs: readonly R[], devs: readonly D[]): Match<R, D> {
  const found = new Map<R, D>()
  const ambiguous = new Map<R, string>()
  const claimedBy = new Map<D, R[]>()
  for (const rec of recs) {
    let candidates = devs.filter((d) => sameNic(rec, d))
    if (macOnly(rec) && rec.ifindex !== null && candidates.length > 0) {
      // Known by MAC alone, which a container can put on any device of its
      // own: the claimant must be the device that left. The kernel keeps a
      // device's ifindex when it is free, so it comes back under the one it
      // left with, unless another device holds that one now.
      const holder = devs.find((d) => d.ifindex === rec.ifindex)
      if (holder !== undefined && sameNic(rec, holder)) candidates = [holder]
      else if (holder === undefined) {
        ambiguous.set(
          rec,
          `${candidates.map((d) => `${d.name} (ifindex ${d.ifindex})`).join(', ')} carries its MAC ${rec.mac} but not the ifindex it left with (${rec.ifindex}), which is free: not the device that left (known by MAC only), so nicback will not take it for it`,
        )
        continue
      }
    }
    if (candidates.length > 1) {
      const byHint = candidates.filter((d) => d.ifindex === rec.ifindex || d.name === rec.name)
      if (byHint.length === 1) candidates = byHint
    }
    if (candidates.length > 1) {
      ambiguous.set(rec, `${candidates.length} devices match ${identityKey(rec)}: ${candidates.map((d) => d.name).join(', ')}`)
    } else if (candidates.length === 1) {
      const dev = candidates[0]!
      found.set(rec, dev)
      claimedBy.set(dev, [...(claimedBy.get(dev) ?? []), rec])
    }
  }
  for (const [dev, owners] of claimedBy) {
    if (owners.length < 2) continue
    for (const rec of owners) {
      found.delete(rec)
      ambiguous.set(rec, `${dev.name} is claimed by ${owners.length} recorded NICs (${owners.map((o) => o.name).join(', ')})`)
    }
  }
  return { found, ambiguous }
}
