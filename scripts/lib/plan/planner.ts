// The rename planner: a pure function from (devices now, remembered NICs) to
// an ordered list of `ip` steps and a decision for every remembered NIC. It
// never touches the system; apply/executor.ts runs what it returns.
//
// It must be right for every shape of mess the kernel can leave: a NIC back
// as devN or under its container-side name, swaps and longer cycles between
// NICs (broken with a temporary name), the recorded name held by udev's
// altname on the same NIC (dropped first, else EEXIST), a name held by a
// device nicback does not manage (never taken), pre-6.2 kernels that refuse to
// rename an UP device, and temporary names left by a run that died.
import { identityKey, matchNics } from '../facts/identity.js'
import { isValidIfname, tempName } from '../facts/names.js'
import type { Cause } from '../state/counters.js'
import type { Entry, Link, Step } from '../types.js'
import { describeAway, HOST } from './describe.js'

export type { Step }

/** What the plan does with one remembered NIC:
 *  - home: already under its recorded name;
 *  - restore: the steps bring it back to its recorded name;
 *  - conflict: it cannot get its name without taking another device's; left as is;
 *  - ambiguous: several devices match its identity (or it shares one); left as is;
 *  - away: not in this netns;
 *  - skipped: misnamed, but not asked for. */
export type Outcome = 'home' | 'restore' | 'conflict' | 'ambiguous' | 'away' | 'skipped'

export interface Decision {
  name: string
  ifindex: number | null
  /** Its name now, null when away. */
  now: string | null
  outcome: Outcome
  reason: string
  /** Why a conflict is one, as data (the metrics' cause label): the reason
   *  says it to a person. Set on every conflict. */
  cause?: Cause
  /** MAC / MTU / admin state restored too (it is coming back from a container). */
  settings: boolean
  /** Away because it left the host again while the run brought it home
   *  (moments/return.ts): not a failure. */
  leftDuringRun?: true
}

export interface Plan {
  /** Renames (and what they need: altname drops, downs). All or nothing. */
  names: Step[]
  /** MAC, MTU and admin state, applied once every name is final; each on its own. */
  settings: Step[]
  decisions: Decision[]
}

export interface PlanOptions {
  /** Which misnamed NICs to bring home (the caller's selection). */
  want: (entry: Entry, link: Link) => boolean
  /** Kernels before 6.2 refuse to rename an UP device (EBUSY). */
  renameWhileUp: boolean
}

interface Move {
  entry: Entry
  link: Link
  /** Name the device has at this point of the plan. */
  at: string
}

/** Pure: the steps that take a pulled-out NIC from nicback's scratch netns
 *  home (apply/transit.ts pullOut), `it` being the device as it is there
 *  now: its own MAC back when the container changed it (a MAC-only NIC is
 *  known on the host by it; set with the executor's setMac), then named `as`
 *  there, where nobody else acts, then moved, so the host sees it arrive
 *  under that name and no other. `scratch`: where it is, for people;
 *  `hostPath`: the host's netns file. */
export function planHomeFromScratch(it: Pick<Link, 'ifindex' | 'name' | 'mac'>, mac: string | null, as: string, scratch: string, hostPath: string): { mac: Extract<Step, { op: 'mac' }> | null; home: Step[] } {
  return {
    mac: mac !== null && it.mac !== null && it.mac !== mac ? { op: 'mac', ifindex: it.ifindex, dev: it.name, mac, was: it.mac } : null,
    home: [...(as !== it.name ? [{ op: 'rename' as const, ifindex: it.ifindex, from: it.name, to: as, temporary: false }] : []), { op: 'netns', ifindex: it.ifindex, dev: as, to: hostPath, where: HOST, from: scratch, name: as }],
  }
}

/** Who holds every name now: a device's name, or an altname of it. */
export function nameHolders(links: readonly Link[]): { holder: Map<string, Link>; altHolder: Map<string, Link> } {
  const holder = new Map<string, Link>()
  const altHolder = new Map<string, Link>()
  for (const l of links) {
    holder.set(l.name, l)
    for (const a of l.altnames) altHolder.set(a, l)
  }
  return { holder, altHolder }
}

/** Pure: why a NIC arriving as `name` would clash with a device on the host
 *  (the name or an altname of it), or null: a pull-out refuses then, as a
 *  plan does not take a name a device holds. */
export function heldOnHost(name: string, links: readonly Link[]): string | null {
  const { holder, altHolder } = nameHolders(links)
  const h = holder.get(name) ?? altHolder.get(name)
  return h === undefined ? null : `"${name}" is now ${h.name === name ? 'the name' : 'an altname'} of ${h.name} (ifindex ${h.ifindex}) on the host; rename that device first`
}

export function planRestore(links: readonly Link[], entries: readonly Entry[], opts: PlanOptions): Plan {
  const { found, ambiguous } = matchNics(entries, links)
  const decisions = new Map<Entry, Decision>()
  const decide = (entry: Entry, d: Omit<Decision, 'name' | 'settings'>, settings = false) => decisions.set(entry, { name: entry.name, settings, ...d })

  const { holder, altHolder } = nameHolders(links)
  const managed = new Map<Link, Entry>()
  for (const [entry, link] of found) managed.set(link, entry)

  // 1. Classify every remembered NIC and pick the ones to move.
  const moves = new Map<Link, Move>()
  for (const entry of entries) {
    const link = found.get(entry)
    const why = ambiguous.get(entry)
    if (why !== undefined) {
      decide(entry, { ifindex: null, now: null, outcome: 'ambiguous', reason: why })
    } else if (link === undefined) {
      decide(entry, { ifindex: null, now: null, outcome: 'away', reason: awayReason(entry) })
    } else if (link.name === entry.name) {
      const settings = entry.away !== null && opts.want(entry, link)
      decide(entry, { ifindex: link.ifindex, now: link.name, outcome: 'home', reason: 'already under its recorded name' }, settings)
    } else if (!isValidIfname(entry.name)) {
      decide(entry, { ifindex: link.ifindex, now: link.name, outcome: 'conflict', reason: `recorded name "${entry.name}" is not a valid interface name`, cause: 'invalid_name' })
    } else if (opts.want(entry, link)) {
      moves.set(link, { entry, link, at: link.name })
    } else {
      decide(entry, { ifindex: link.ifindex, now: link.name, outcome: 'skipped', reason: skipReason(entry) })
    }
  }

  // A wanted NIC may be blocked by another managed NIC that sits on its name
  // under a wrong name of its own: bring that one home too (closure).
  for (let grew = true; grew;) {
    grew = false
    for (const move of [...moves.values()]) {
      const h = holder.get(move.entry.name)
      const hEntry = h === undefined ? undefined : managed.get(h)
      if (h !== undefined && hEntry !== undefined && !moves.has(h) && h.name !== hEntry.name && isValidIfname(hEntry.name)) {
        moves.set(h, { entry: hEntry, link: h, at: h.name })
        grew = true
      }
    }
  }

  // 2. Names nobody may take: two NICs recorded under one name, a name held
  //    by a device that will not move, or by another device's altname.
  const blocked = new Map<Link, string>()
  const blockedCause = new Map<Link, Cause>()
  const block = (link: Link, reason: string, cause: Cause) => {
    blocked.set(link, reason)
    blockedCause.set(link, cause)
  }
  const byTarget = new Map<string, Move[]>()
  for (const m of moves.values()) byTarget.set(m.entry.name, [...(byTarget.get(m.entry.name) ?? []), m])
  for (const [name, ms] of byTarget) {
    if (ms.length > 1) for (const m of ms) block(m.link, `"${name}" is recorded for ${ms.length} NICs (${ms.map((x) => identityKey(x.entry)).join('; ')})`, 'duplicate_record')
  }
  for (const m of moves.values()) {
    if (blocked.has(m.link)) continue
    const h = holder.get(m.entry.name)
    const alt = altHolder.get(m.entry.name)
    if (h !== undefined && !moves.has(h)) {
      block(m.link, `"${m.entry.name}" is held by ${describe(h, managed.get(h))}; nicback never takes a name from a device it is not restoring`, 'name_held')
    } else if (alt !== undefined && alt !== m.link && !managed.has(alt)) {
      block(m.link, `"${m.entry.name}" is an altname of ${describe(alt, undefined)}`, 'altname_held')
    }
  }
  for (const l of blocked.keys()) moves.delete(l)

  // An altname on a NIC nicback manages that is another managed NIC's
  // recorded name was put there by a container (or udev): nicback's to drop.
  // A device nicback does not manage keeps its names (checked above).
  const drops: Step[] = []
  for (const m of moves.values()) {
    const alt = altHolder.get(m.entry.name)
    if (alt === undefined || alt === m.link) continue
    drops.push({ op: 'altname-del', ifindex: alt.ifindex, dev: alt.name, altname: m.entry.name })
    altHolder.delete(m.entry.name)
  }

  // 3. Order the renames: any move whose target is free goes now; when none
  //    is free, the rest wait on each other or on a blocked device. A cycle is
  //    broken by parking one member under a temporary name.
  const steps: Step[] = [...drops]
  const downed = new Set<Link>()
  const pending = new Map(moves)
  const rename = (m: Move, to: string, temporary: boolean) => {
    if (!opts.renameWhileUp && m.link.up && !downed.has(m.link)) {
      steps.push({ op: 'down', ifindex: m.link.ifindex, dev: m.at })
      downed.add(m.link)
    }
    if (!temporary && altHolder.get(to) === m.link) {
      steps.push({ op: 'altname-del', ifindex: m.link.ifindex, dev: m.at, altname: to })
      altHolder.delete(to)
    }
    steps.push({ op: 'rename', ifindex: m.link.ifindex, from: m.at, to, temporary })
    holder.delete(m.at)
    holder.set(to, m.link)
    m.at = to
  }

  while (pending.size > 0) {
    const ready = [...pending.values()].find((m) => !holder.has(m.entry.name))
    if (ready !== undefined) {
      rename(ready, ready.entry.name, false)
      pending.delete(ready.link)
      continue
    }
    const cycleMember = findCycle(pending, holder)
    if (cycleMember === undefined) break // only chains that end at a blocked device remain
    rename(cycleMember, tempName(cycleMember.link.ifindex, holder, altHolder), true)
  }

  // Whatever is still pending waits on a blocked device: it never moved.
  for (const m of pending.values()) {
    const h = holder.get(m.entry.name)!
    const hMove = [...moves.values()].find((x) => x.link === h)
    const cause = blocked.get(h) ?? (hMove ? `it waits for "${hMove.entry.name}"` : 'it cannot move')
    block(m.link, `"${m.entry.name}" is held by ${describe(h, managed.get(h))}, which cannot move: ${cause}`, 'chain_blocked')
    moves.delete(m.link)
  }

  // 4. Restore MAC, MTU and admin state of NICs coming back (and of devices taken
  //    down only to be renamed), once every name is final.
  for (const m of moves.values()) {
    decide(m.entry, { ifindex: m.link.ifindex, now: m.link.name, outcome: 'restore', reason: `${m.link.name} -> ${m.entry.name}` }, true)
  }
  for (const [link, reason] of blocked) {
    const entry = managed.get(link)!
    decide(entry, { ifindex: link.ifindex, now: link.name, outcome: 'conflict', reason, cause: blockedCause.get(link)! })
  }
  const settle: Step[] = []
  for (const [entry, d] of decisions) {
    if (!d.settings || d.ifindex === null) continue
    const link = found.get(entry)!
    // A container may have changed the MAC; a NIC known by its bus or
    // permanent MAC gets back the one it had (a MAC-identified one could not
    // have been recognised had it changed).
    if ((entry.bus !== null || entry.permAddr !== null) && entry.mac !== null && link.mac !== null && link.mac !== entry.mac) {
      settle.push({ op: 'mac', ifindex: link.ifindex, dev: entry.name, mac: entry.mac, was: link.mac })
    }
    if (entry.mtu !== null && entry.mtu !== link.mtu) {
      settle.push({ op: 'mtu', ifindex: link.ifindex, dev: entry.name, mtu: entry.mtu, was: link.mtu })
    }
    if (entry.up === true && (!link.up || downed.has(link))) {
      settle.push({ op: 'up', ifindex: link.ifindex, dev: entry.name })
      downed.delete(link)
    }
  }
  for (const link of downed) {
    const m = moves.get(link)
    settle.push({ op: 'up', ifindex: link.ifindex, dev: m?.at ?? link.name })
  }

  return {
    names: steps,
    settings: settle,
    decisions: entries.map((e) => decisions.get(e)!),
  }
}

/** A pending move that sits on a cycle of moves waiting on each other. */
function findCycle(pending: Map<Link, Move>, holder: Map<string, Link>): Move | undefined {
  for (const start of pending.values()) {
    const seen = new Set<Move>()
    let m: Move | undefined = start
    while (m !== undefined && !seen.has(m)) {
      seen.add(m)
      const h = holder.get(m.entry.name)
      m = h === undefined ? undefined : pending.get(h)
    }
    if (m !== undefined) return m
  }
  return undefined
}

function describe(link: Link, entry: Entry | undefined): string {
  if (entry === undefined) return `${link.name} (ifindex ${link.ifindex}), a device nicback does not manage`
  return `${link.name} (recorded as "${entry.name}", ${identityKey(entry)})`
}

function awayReason(entry: Entry): string {
  return entry.away === null ? 'not in this network namespace' : describeAway(entry.away)
}

function skipReason(entry: Entry): string {
  return entry.away === null ? 'misnamed, but nicback did not see it leave: restore it by name or with --all' : 'not selected'
}
