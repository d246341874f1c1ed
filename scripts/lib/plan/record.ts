// What `nicback record` does to the registry, as a pure function of the
// devices seen now, so it can be tested without a system.
import { identityKey, sameNic } from '../facts/identity.js'
import { isFallbackName } from '../facts/names.js'
import { isValidIfname } from '../facts/names.js'
import { entryProblem, putEntry } from '../state/registry.js'
import type { Entry, Link, Registry, UnnamedNic } from '../types.js'

export interface RecordOptions {
  /** Record a devN / temporary name, or over a NIC recorded as away. */
  force: boolean
  /** At boot every container is gone: forget where NICs were. */
  boot: boolean
  /** Only NICs with no record yet (the agent's start): a recorded NIC under
   *  another name is one to bring home, not to record again. */
  onlyNew?: boolean
}

/** A NIC on a bus seen in another network namespace. */
export interface SeenAway {
  link: Link
  netnsInode: number
  where: string
}

export interface RecordResult {
  recorded: { name: string; identity: string; replaced: string[] }[]
  skipped: { name: string; reason: string }[]
  /** NICs away with no record, written down (writeDownAway). */
  away: { identity: string; where: string }[]
}

export function entryFromLink(l: Link, now: string): Entry {
  return {
    name: l.name,
    bus: l.bus,
    devPort: l.devPort,
    permAddr: l.permAddr,
    mac: l.mac,
    ifindex: l.ifindex,
    driver: l.driver,
    mtu: l.mtu,
    up: l.up,
    recordedAt: now,
    away: null,
  }
}

export function recordLinks(reg: Registry, links: Link[], opts: RecordOptions, now: string): RecordResult {
  const result: RecordResult = { recorded: [], skipped: [], away: [] }
  if (opts.boot) {
    for (const e of reg.nics) e.away = null
    // every container is gone: what was away is home, or gone
    delete reg.unnamed
  }
  for (const l of links) {
    if (opts.onlyNew && reg.nics.some((e) => sameNic(e, l))) continue
    if (isFallbackName(l.name) && !opts.force) {
      result.skipped.push({ name: l.name, reason: `${l.name} is a kernel fallback or nicback temporary name, not a host name: run "nicback restore" first, or --force to record it` })
      continue
    }
    const problem = entryProblem(entryFromLink(l, now))
    if (problem !== null) {
      result.skipped.push({ name: l.name, reason: `${l.name} cannot be recorded (${problem}): give it a plain name first` })
      continue
    }
    const prev = reg.nics.find((e) => sameNic(e, l))
    if (prev && prev.away !== null && prev.name !== l.name && !opts.force) {
      result.skipped.push({ name: l.name, reason: `${l.name} is recorded as ${prev.name}, which left the host (${prev.away.via}) and has not been given its name back: run "nicback restore ${l.name}" first, or --force to record ${l.name}` })
      continue
    }
    const promised = reg.nics.find((e) => e.name === l.name && e.away !== null && !sameNic(e, l))
    if (promised && !opts.force) {
      result.skipped.push({
        name: l.name,
        reason: `${l.name} is the recorded name of another NIC (${identityKey(promised)}) that is away (${promised.away!.via}) and will want it back: rename ${l.name}, or --force to give the name to this NIC and forget the other`,
      })
      continue
    }
    const replaced = putEntry(reg, entryFromLink(l, now))
    // home and recorded: no longer a NIC with no name
    if (reg.unnamed !== undefined) reg.unnamed = reg.unnamed.filter((u) => !sameNic(u, l))
    result.recorded.push({ name: l.name, identity: identityKey(l), replaced: replaced.map((r) => `${r.name} (${identityKey(r)})`) })
  }
  return result
}

/** Writes down the NICs `seen` away that nicback has no record of (it was
 *  installed after they left): what identifies them and where they are, so
 *  that status shows them and their return is recognised. Their host name
 *  is found when they come back (plan/origin.ts). Returns what was written. */
export function writeDownAway(reg: Registry, seen: readonly SeenAway[], now: string): RecordResult['away'] {
  const out: RecordResult['away'] = []
  for (const s of seen) {
    const l = s.link
    if (l.bus === null || reg.nics.some((e) => sameNic(e, l))) continue
    const u: UnnamedNic = { bus: l.bus, devPort: l.devPort, permAddr: l.permAddr, mac: l.mac, seenAt: now, netnsInode: s.netnsInode, where: s.where, insideName: isValidIfname(l.name) ? l.name : null }
    reg.unnamed = [...(reg.unnamed ?? []).filter((x) => !sameNic(x, l)), u]
    out.push({ identity: identityKey(l), where: s.where })
  }
  return out
}
