// What a departure does to the registry, as a pure function: the seed's
// `init_ns_name` moment. The name a NIC has as it leaves init_net is the name
// it must get back, with care for the departures that must not overwrite a
// good record (a devN or temporary name, a NIC that left again before it was
// brought home, an unknown NIC leaving under another NIC's promised name).
import { identityKey, sameNic } from '../facts/identity.js'
import { isFallbackName, lostBytes } from '../facts/names.js'
import { entryProblem, putEntry } from '../state/registry.js'
import type { Away, Entry, Identity, Link, Registry } from '../types.js'
import { nameBeforeHandOver, type HandOverStep } from './handover.js'

export interface Departure extends Identity {
  /** Name it leaves the host with. */
  name: string
  ifindex: number | null
  via: Away['via']
  /** The device as read just before it left, when the caller could read it. */
  live?: Link | undefined
  container?: Away['container']
  insideName?: string | undefined
  /** nsfs inode of the network namespace it goes to, when known. */
  netnsInode?: number | undefined
  /** Its renames on the host just before it left, newest first
   *  (plan/handover.ts): a mover's hand-over, when they lead back to a
   *  host name. */
  handOver?: readonly HandOverStep[] | undefined
}

export interface DepartureNote {
  changed: boolean
  /** The recorded name it will be given back. Null: not recorded. */
  recordedName: string | null
  message: string
}

/** Where a NIC goes and how, as a departure says it. */
export type Destination = Pick<Departure, 'via' | 'container' | 'insideName' | 'netnsInode'>

/** Pure: the departure of `nic` (a device read just before it leaves, then
 *  also `live`, or its record) toward `to`. */
export function departureFrom(nic: Identity & { name: string; ifindex: number | null }, to: Destination, live?: Link): Departure {
  return { name: nic.name, ifindex: nic.ifindex, bus: nic.bus, devPort: nic.devPort, permAddr: nic.permAddr, mac: nic.mac, ...(live !== undefined ? { live } : {}), ...to }
}

/** Pure: the departure of the NIC a container takes by its host name
 *  `name`: known by the device while it is still on the host (`links`),
 *  else by its record (`entries`); null when neither knows that name. */
export function departureByName(name: string, links: readonly Link[], entries: readonly Entry[], to: Destination): Departure | null {
  const link = links.find((l) => l.name === name)
  if (link !== undefined) return departureFrom(link, to, link)
  const entry = entries.find((e) => e.name === name)
  return entry === undefined ? null : departureFrom(entry, to)
}

/** Pure: what a departure does to the registry. */
export function noteDeparture(reg: Registry, leaving: Departure, now: string): DepartureNote {
  const candidates = reg.nics.filter((e) => sameNic(e, leaving))
  // Renamed on the host just before it left: it leaves with the name it had before.
  const before = nameBeforeHandOver(
    leaving.name,
    leaving.handOver ?? [],
    candidates.map((e) => e.name),
  )
  const dep = before === null ? leaving : { ...leaving, name: before }
  const handOver = before === null ? '' : ` (renamed ${before} -> ${leaving.name} on the host ${handOverMs(leaving.handOver!, before)} ms before it left: part of its hand-over, not a new host name)`
  const entry = candidates.length === 1 ? candidates[0] : candidates.find((e) => e.ifindex === dep.ifindex || e.name === dep.name)
  const away: Away = {
    since: now,
    via: dep.via,
    leftAs: leaving.name,
    ...(dep.container ? { container: dep.container } : {}),
    ...(dep.insideName ? { insideName: dep.insideName } : {}),
    ...(dep.netnsInode !== undefined ? { netnsInode: dep.netnsInode } : {}),
  }
  const live = dep.live
  const fresh: Entry = {
    name: dep.name,
    bus: dep.bus ?? entry?.bus ?? null,
    devPort: dep.devPort ?? entry?.devPort ?? null,
    permAddr: dep.permAddr ?? entry?.permAddr ?? null,
    mac: dep.mac ?? entry?.mac ?? null,
    ifindex: dep.ifindex ?? entry?.ifindex ?? null,
    driver: live?.driver ?? entry?.driver ?? null,
    mtu: live?.mtu ?? entry?.mtu ?? null,
    up: live?.up ?? entry?.up ?? null,
    recordedAt: entry?.recordedAt ?? now,
    away,
  }
  const what = `${dep.name} (${identityKey(fresh)})`
  const problem = entryProblem(fresh)
  if (problem !== null) {
    // Never write what would not be read back: the event is reported instead.
    return { changed: false, recordedName: null, message: `${what} left the host, but what the event says of it cannot be recorded (${problem}): nothing recorded` }
  }

  if (entry === undefined && candidates.length > 1) {
    // Ports of one function, and the event says neither which (no dev_port)
    // nor, by ifindex or name, which one: recording it would replace them all.
    return { changed: false, recordedName: null, message: `${what} left the host, but ${candidates.length} recorded NICs match it (${candidates.map((e) => e.name).join(', ')}): none is marked as away, each keeps its recorded name` }
  }
  if (entry === undefined) {
    if (lostBytes(dep.name)) {
      return { changed: false, recordedName: null, message: `${what} left the host under a name that is not UTF-8 and was never recorded: nicback cannot write that name down, nothing to give back` }
    }
    if (isFallbackName(dep.name)) {
      return { changed: false, recordedName: null, message: `${what} left the host under the fallback name ${dep.name} and was never recorded: nothing to give back` }
    }
    const promised = reg.nics.find((e) => e.name === dep.name && e.away !== null)
    if (promised !== undefined) {
      // Another NIC is away and will want this name back: this one only
      // borrowed it (it came back under it, say), so it is not its host name.
      return { changed: false, recordedName: null, message: `${what} left the host under ${dep.name}, the recorded name of ${identityKey(promised)}, which is away (${promised.away!.via}): not recorded, ${dep.name} stays promised to that NIC` }
    }
    putEntry(reg, { ...fresh, recordedAt: now })
    return { changed: true, recordedName: dep.name, message: `${what} left the host (${dep.via})${handOver}; will be given back as ${dep.name}` }
  }
  // assign and the OCI hook record a departure before they move the NIC;
  // the move's udev `remove` then reports the same departure with less in it
  // (no container, no inside name): keep the fuller record.
  if (entry.away !== null && entry.away.leftAs === leaving.name && entry.away.container !== undefined && dep.container === undefined) {
    return { changed: false, recordedName: entry.name, message: `${entry.name} (${identityKey(entry)}) left the host (${dep.via}), as ${entry.away.via} recorded` }
  }
  // A NIC that leaves under a fallback or temporary name, or leaves again
  // before it was brought home, keeps the name recorded before.
  // So does one leaving under another NIC's name while that one is away.
  const borrowed = reg.nics.some((e) => e !== entry && e.name === dep.name && e.away !== null)
  const keepRecorded = isFallbackName(dep.name) || lostBytes(dep.name) || (entry.away !== null && entry.name !== dep.name) || borrowed
  if (keepRecorded || entry.name === dep.name) {
    Object.assign(entry, { ...fresh, name: entry.name, recordedAt: entry.recordedAt, away })
    const note = keepRecorded && entry.name !== dep.name ? ` (left as ${leaving.name}, keeping the recorded name)` : handOver
    return { changed: true, recordedName: entry.name, message: `${entry.name} (${identityKey(entry)}) left the host (${dep.via})${note}` }
  }
  // It was home under a name the admin gave it since it was recorded: that
  // name is the one it leaves with, so that is the one to give back.
  const displaced = putEntry(reg, { ...fresh, recordedAt: now })
  const also = displaced.length ? `; forgot ${displaced.map((d) => `${d.name} (${identityKey(d)})`).join(', ')}, which had the same name` : ''
  return { changed: true, recordedName: dep.name, message: `${what} left the host (${dep.via})${handOver}, renamed since it was recorded as ${entry.name}: will be given back as ${dep.name}${also}` }
}

/** How long before it left the rename away from `from` was. */
function handOverMs(chain: readonly HandOverStep[], from: string): number {
  return chain.find((s) => s.from === from)?.msBefore ?? 0
}
