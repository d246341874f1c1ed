// A udev event, read from its environment and checked, handed to the moment
// it stands for: `remove` -> a NIC leaves (moments/leave.ts), `add`/`move` ->
// a NIC may have returned (moments/return.ts). The rule filters out virtual
// devices, so veth churn never gets here. An `add` for a NIC that needs
// nothing reads one sysfs directory and the registry file, takes no lock and
// runs no command: it is the hot path.
import { readdirSync } from 'node:fs'
import { sameNic } from '../facts/identity.js'
import { eventUsec } from '../facts/udevdb.js'
import { busFromDevicePath, busOnHost, displayName, SYS_NET, sysfsFacts, sysfsNames } from '../facts/links.js'
import { isFallbackName, isValidIfname, lostBytes } from '../facts/names.js'
import { loadRegistry } from '../state/registry.js'
import { handOverChain, HAND_OVER_MS, type HostRename } from '../plan/handover.js'
import { looksReturned } from '../plan/origin.js'
import { hostRenameMarks, leadershipFromEnv, type Leadership, type Mark } from '../system/leader.js'
import { log } from '../system/log.js'
import { nicLeaves, nicsDepart, type Departure } from './leave.js'
import { logReport, nicReturns } from './return.js'

export interface UdevEvent {
  action: 'add' | 'move' | 'remove'
  name: string
  ifindex: number | null
  /** The NIC's bus identity, from DEVPATH (sysfs is gone at `remove`). */
  bus: string
  /** A move's name before (DEVPATH_OLD); null when not a move or not said. */
  from: string | null
}

/** Pure: the event in `env`, or why it is not one nicback acts on (null
 *  reason: an event to ignore quietly, e.g. a virtual device or `change`;
 *  `usage`: not run by udev at all, which a person is told as bad usage). */
export function parseUdevEvent(env: NodeJS.ProcessEnv): { event: UdevEvent } | { ignore: string | null; usage?: true } {
  const { ACTION: action, INTERFACE: name, DEVPATH: devpath, IFINDEX: ifindex, DEVPATH_OLD: devpathOld } = env
  if (!action || !name || !devpath) return { ignore: 'meant to be run by udev: ACTION, INTERFACE and DEVPATH must be set', usage: true }
  if (action !== 'add' && action !== 'move' && action !== 'remove') return { ignore: null }
  const bus = busFromDevicePath(devpath)
  if (bus === null || devpath.includes('/../') || devpath.length > 4096) return { ignore: null }
  // A name that is not UTF-8 (lost bytes) cannot be checked or looked up:
  // the IFINDEX says which device it is.
  if (!lostBytes(name) && !isValidIfname(name)) return { ignore: `udev ${action} event for INTERFACE="${name}", which is not a valid interface name: ignored` }
  let idx: number | null = null
  if (ifindex !== undefined && ifindex !== '') {
    if (!/^[1-9]\d{0,9}$/.test(ifindex) || Number(ifindex) > 0x7fffffff) return { ignore: `udev ${action} event for ${name} with IFINDEX="${ifindex}", which is not an ifindex: ignored` }
    idx = Number(ifindex)
  }
  if (lostBytes(name) && idx === null) return { ignore: `udev ${action} event for INTERFACE="${name}", not UTF-8, without an IFINDEX to say which device: ignored` }
  const old = action === 'move' && devpathOld !== undefined ? devpathOld.slice(devpathOld.lastIndexOf('/') + 1) : null
  const from = old !== null && isValidIfname(old) && !lostBytes(old) && busFromDevicePath(devpathOld!) === bus ? old : null
  return { event: { action, name, ifindex: idx, bus, from } }
}

/** The event's device is a recorded NIC at home under its name (or a NIC
 *  nicback has no name for). Found by its name, else by the event's ifindex:
 *  a device renamed since its event (LXC renames a NIC it hands back, and a
 *  rename into a plain name starts no run of its own) is judged as it is
 *  now. */
export function needsNothing(name: string, ifindex: number | null = null): boolean {
  let facts = sysfsFacts(name)
  let now = name
  if (facts.ifindex === null || (ifindex !== null && facts.ifindex !== ifindex)) {
    const bytes = ifindex === null ? undefined : sysfsNames().get(ifindex)
    // Gone from the host since the event: its remove has an event of its own.
    if (bytes === undefined) return true
    facts = sysfsFacts(bytes)
    now = displayName(bytes)
    if (facts.ifindex !== ifindex) return true
  }
  const dev = { bus: facts.bus, devPort: facts.devPort, permAddr: facts.permAddr, mac: facts.mac, ifindex: facts.ifindex! }
  const reg = loadRegistry()
  const recorded = reg.nics.filter((e) => sameNic(e, dev))
  // Not recorded: a run finds its name only if it came back (plan/origin.ts
  // looksReturned); any other is left as it is (status lists it).
  if (recorded.length === 0) return !looksReturned({ ...dev, name: now }, reg.unnamed ?? [])
  return recorded.every((e) => e.away === null && e.name === now)
}

/** Whether a restore run could bring any NIC home: a recorded NIC is away,
 *  a NIC seen away at install with no name is back on the host, or a device carries a kernel fallback or nicback temporary name (what
 *  the 'returned' selection asks for). Reads the registry and one directory:
 *  the marks of a storm's later events (the move events of the leader's own
 *  temporary renames among them) cost no run once every NIC is home. */
export function anyNicMayBeBack(): boolean {
  const reg = loadRegistry()
  if (reg.nics.some((e) => e.away !== null) || (reg.unnamed ?? []).some((u) => u.bus !== null && busOnHost(u.bus))) return true
  return readdirSync(SYS_NET).some(isFallbackName)
}

/** Handles one event; returns the exit status for udev. `lead`: this process
 *  won the udev front's leader lock (system/leader.ts; by default as the
 *  front says in the environment): it does the work of every event the
 *  front let go, its own included, until no mark is left. */
export function onUdevEvent(e: UdevEvent, lockTimeoutSec: number, lead: Leadership | null = leadershipFromEnv()): number {
  if (lead !== null) return leadRounds(e, lockTimeoutSec, lead)
  if (!dispatchUdevEvent(e, lockTimeoutSec, noted)) return 0
  return restoreRun(lockTimeoutSec, e) ? 0 : 1
}

/** One event handed to its moment, for the udev rule and the resident agent
 *  alike: a `remove` is recorded now as a departure (with the host renames
 *  `renames` gives, asked only then, of the last HAND_OVER_MS before
 *  `atMs`); an `add` or `move` wants a restore run unless its NIC needs
 *  nothing (`pending`: one is wanted already, so nothing is read). Returns
 *  whether a restore run is wanted; the caller runs it (at once, or shared
 *  by the events that arrive together). */
export function dispatchUdevEvent(e: UdevEvent, lockTimeoutSec: number, renames: () => readonly HostRename[], atMs?: number, pending = false): boolean {
  if (e.action === 'remove') {
    nicLeaves(departureOf(e, renames(), atMs), lockTimeoutSec)
    return false
  }
  return !pending && !needsNothing(e.name, e.ifindex)
}

/** What a remove event at `atMs` says of the NIC that left, with the
 *  renames on the host that led to the name it left with (`renames`: the
 *  front's notes, or the agent's own). */
export function departureOf(e: UdevEvent, renames: readonly HostRename[] = [], atMs = Date.now()): Departure {
  const handOver = handOverChain(renames, e, atMs)
  return { name: e.name, ifindex: e.ifindex, bus: e.bus, devPort: null, permAddr: null, mac: null, via: 'udev', ...(handOver.length > 0 ? { handOver } : {}) }
}

/** The host renames the udev front noted in the last HAND_OVER_MS. */
function noted(): HostRename[] {
  return hostRenameMarks(HAND_OVER_MS).flatMap((m) => {
    const r = parseRename(m)
    if (r === null) return []
    if (typeof r === 'string') {
      log.warn(r, { cause: r })
      return []
    }
    return [r]
  })
}

/** A rename note the front wrote ("OLD NEW IFINDEX DEVPATH"), checked as its
 *  move event would be; or why it was dropped; null: a rename from a name
 *  that is not UTF-8, which no hand-over can lead back to (no such name is
 *  written down), dropped quietly. */
export function parseRename(m: Mark): HostRename | string | null {
  const [from, to, ifindex, devpath, ...rest] = m.line.split(' ')
  const bad = `dropped a malformed udev rename note: "${m.line}"`
  if (from === undefined || to === undefined || ifindex === undefined || devpath === undefined || rest.length > 0) return bad
  if (lostBytes(from)) return null
  const parsed = parseUdevEvent({ ACTION: 'move', INTERFACE: to, IFINDEX: ifindex === '-' ? '' : ifindex, DEVPATH: devpath, DEVPATH_OLD: `${devpath.slice(0, devpath.lastIndexOf('/'))}/${from}` })
  if ('ignore' in parsed || parsed.event.from === null) return bad
  return { from: parsed.event.from, to, ifindex: parsed.event.ifindex, bus: parsed.event.bus, atMs: m.atMs }
}

/** Rounds: the departures written so far (in one registry write), then a
 *  restore if a NIC may be back; again while marks come; then hand over. */
function leadRounds(own: UdevEvent, lockTimeoutSec: number, lead: Leadership): number {
  let ok = true
  let rounds = 0
  let first = true
  do {
    for (;;) {
      const taken = lead.takeDepartures()
      const renames = taken.length > 0 ? noted() : []
      const deps = taken.flatMap((mark) => {
        const d = parseDeparture(mark, renames)
        if (typeof d === 'string') {
          log.warn(d, { cause: d })
          return []
        }
        return [d]
      })
      // A mark left before a round starts is covered by it: take it first.
      const marks = lead.takeMarks()
      // The leader's own add alone (the common case: one NIC, no storm) for
      // a NIC that needs nothing costs no restore run.
      const ownAdd = first && own.action !== 'remove' && !marks.others && !needsNothing(own.name, own.ifindex)
      first = false
      if (deps.length === 0 && !marks.others && !ownAdd) break
      rounds++
      if (deps.length > 0) nicsDepart(deps, lockTimeoutSec)
      if (ownAdd || (marks.others && anyNicMayBeBack())) ok = restoreRun(lockTimeoutSec, own) && ok
    }
  } while (lead.handOver())
  if (rounds > 1) log.debug(`led ${rounds} rounds for NICs that left or came back together`, { rounds })
  return ok ? 0 : 1
}

/** A departure the front wrote ("NAME IFINDEX DEVPATH"), checked as its
 *  udev event would be; or why it was dropped. */
export function parseDeparture(mark: Mark, renames: readonly HostRename[] = []): Departure | string {
  const line = mark.line
  const [name, ifindex, devpath, ...rest] = line.split(' ')
  if (name === undefined || ifindex === undefined || devpath === undefined || rest.length > 0) return `dropped a malformed udev departure record: "${line}"`
  const parsed = parseUdevEvent({ ACTION: 'remove', INTERFACE: name, IFINDEX: ifindex === '-' ? '' : ifindex, DEVPATH: devpath })
  if ('ignore' in parsed) return parsed.ignore ?? `dropped a udev departure record for a device nicback does not manage: "${line}"`
  return departureOf(parsed.event, renames, mark.atMs)
}

/** A restore run from inside udev event `e` (the rule's RUN program): udevd
 *  holds the next event of e's device until this process exits, so the run
 *  never waits for it (moments/return.ts udevWait). */
function restoreRun(lockTimeoutSec: number, e: UdevEvent): boolean {
  const report = nicReturns({ select: { kind: 'returned' }, lockTimeoutSec, returnedAtUsec: eventUsec(process.env), udevEvent: { ifindex: e.ifindex } })
  logReport(report)
  return report.ok
}
