// Moment one: a NIC leaves the host. Every way out comes here:
//   nicLeaves   records a departure someone else makes (udev `remove`, a
//               runtime moving linux.netDevices);
//   nicsLeave   gives NICs to a container's netns itself (`nicback assign`,
//               the createRuntime hook): every refusal checked for all of
//               them first, each recorded before it moves, then moved in and
//               set up; all or nothing, registry included (one Journal).
import { isMoveError, moveError, moveIn } from '../apply/transit.js'
import { Journal } from '../apply/journal.js'
import { hostKernel, type Kernel } from '../apply/kernel.js'
import { isNicbackError } from '../system/errors.js'
import { macOnly, sameNic } from '../facts/identity.js'
import { hostUse, isWireless } from '../facts/hostuse.js'
import { describeAway } from '../plan/describe.js'
import { departureFrom, noteDeparture, type Departure, type DepartureNote } from '../plan/departure.js'
import { assignRefusals, type AssignFacts } from '../plan/refusals.js'
import { matchNics } from '../facts/identity.js'
import { loadRegistry, updateRegistry } from '../state/registry.js'
import { log } from '../system/log.js'
import { isOwnNetns, netnsInode, type Netns } from '../system/netns.js'
import type { Away, Entry, Link } from '../types.js'

export type { Departure, DepartureNote }
export { isMoveError }

/** Records a departure in the registry, under the lock, and logs it. */
export function nicLeaves(dep: Departure, lockTimeoutSec?: number): DepartureNote {
  return nicsDepart([dep], lockTimeoutSec)[0]!
}

/** Records departures in their order, in one registry write (many NICs
 *  leave at once when a pod is given its VFs), and logs each. */
export function nicsDepart(deps: readonly Departure[], lockTimeoutSec?: number): DepartureNote[] {
  const now = new Date().toISOString()
  const notes = updateRegistry(
    (reg) => {
      const ns = deps.map((dep) => noteDeparture(reg, dep, now))
      return { changed: ns.some((n) => n.changed), value: ns }
    },
    { lockTimeoutSec },
  )
  for (const note of notes) (note.recordedName === null ? log.warn : log.info)(note.message, { nic: note.recordedName ?? undefined, cause: note.recordedName === null ? note.message : undefined })
  return notes
}

/** One NIC to give: its host name, and its name inside (default: the same). */
export interface Give {
  host: string
  inside?: string | undefined
}

export interface GiveOptions {
  via: 'assign' | 'hook'
  /** Who receives them, for the record. */
  container: NonNullable<Away['container']>
  /** Move them although plan/refusals.ts says so without --force. */
  force?: boolean | undefined
  /** The kernel it changes (apply/kernel.ts); the machine's by default. */
  kernel?: Kernel
}

export interface GiveResult {
  hostName: string
  insideName: string
  /** Its ifindex inside, after the move. */
  ifindex: number
  where: string
  container: NonNullable<Away['container']>
  /** Every step done, in order (of all the NICs given together). */
  steps: string[]
  /** What was recorded. */
  recorded: string
}

/** The NICs of `gives` that are not on the host under their name: nicsLeave
 *  refuses each (saying why); the createRuntime hook asks first, before it
 *  records the NICs the runtime moves. */
export function notOnHost(gives: readonly Give[], links: readonly Link[]): Give[] {
  return gives.filter((g) => !links.some((l) => l.name === g.host))
}

/** Why a NIC is not on the host under `name`. */
function notHere(name: string, entries: readonly Entry[], links: readonly Link[]): string {
  const entry = entries.find((e) => e.name === name)
  if (entry?.away) return `${name} is already away (${describeAway(entry.away)}): bring it back first with "nicback release ${name}"`
  const now = entry ? matchNics([entry], links).found.get(entry) : undefined
  if (now) return `${name} is on the host as ${now.name}: give it its name back first ("nicback restore ${name}")`
  return `no network device named ${name} in this network namespace`
}

/** Gives the host NICs `gives` to the network namespace `ns`. Throws
 *  a move error (system/errors.ts codes move_refused, move_failed): refused (nothing touched) or failed (everything undone, or
 *  the message says what could not be). */
export async function nicsLeave(gives: readonly Give[], ns: Netns, opts: GiveOptions): Promise<GiveResult[]> {
  const names = gives.map((g) => g.host).join(', ')
  if (isOwnNetns(ns.path)) {
    throw moveError(`refusing to move ${names} to ${ns.where}: that is this host's own network namespace (a container run with --network host?)`, 'move_refused')
  }
  // Check first, act after.
  const kernel = opts.kernel ?? hostKernel()
  const links = kernel.links()
  const entries = loadRegistry().nics
  const inside = kernel.linksIn(ns)
  const chosen: { give: Give; link: Link; insideName: string }[] = []
  for (const give of gives) {
    const link = links.find((l) => l.name === give.host)
    if (link === undefined) throw moveError(notHere(give.host, entries, links), 'move_refused', { nic: give.host })
    const recorded = entries.filter((e) => sameNic(e, link)).sort((a, b) => Number(b.name === give.host) - Number(a.name === give.host))[0]
    const insideName = give.inside ?? give.host
    const facts: AssignFacts = { hostName: give.host, link, recorded, wireless: isWireless(give.host), insideName, inside, where: ns.where }
    const first = assignRefusals(facts)
    if (first.fatal.length > 0) throw moveError(`refusing to move ${give.host} to ${ns.where}: ${first.fatal.join('; ')}`, 'move_refused', { nic: give.host })
    if (!opts.force) {
      const { overridable } = assignRefusals({ ...facts, use: await hostUse(give.host) })
      if (overridable.length > 0) throw moveError(`refusing to move ${give.host} to ${ns.where}: ${overridable.join('; ')}. --force moves it anyway`, 'move_refused', { overridable: true, nic: give.host })
    } else if (first.overridable.length > 0) {
      log.warn(`moving ${give.host} although ${first.overridable.join('; ')} (--force)`, { nic: give.host, cause: first.overridable.join('; '), forced: true })
    }
    chosen.push({ give, link, insideName })
  }

  const inode = netnsInode(ns.path)
  const journal = new Journal(kernel)
  const results: GiveResult[] = []
  try {
    for (const { give, link, insideName } of chosen) {
      const recorded = recordDeparture(departureFrom(link, { via: opts.via, container: opts.container, insideName: insideName !== give.host ? insideName : undefined, netnsInode: inode }, link), journal)
      const ifindex = moveIn(link, ns, insideName, link.up, journal)
      if (macOnly(link) && ifindex !== link.ifindex) {
        // A MAC-only stand-in is known by the ifindex it has: the one it got inside.
        updateRegistry((reg) => {
          const e = reg.nics.find((x) => x.name === give.host)
          if (e) e.ifindex = ifindex
          return { changed: e !== undefined, value: undefined }
        })
      }
      log.info(`${give.host} is in ${ns.where}${insideName !== give.host ? ` as "${insideName}"` : ''}${link.up ? ', up' : ''}`, { nic: give.host, netns: ns.where, inside: insideName })
      results.push({ hostName: give.host, insideName, ifindex, where: ns.where, container: opts.container, steps: journal.done, recorded })
    }
    return results
  } catch (err) {
    const undoErrors = journal.rollback()
    const what = isNicbackError(err, 'step_failed') || isMoveError(err) ? err.message : `failed to move ${names}: ${(err as Error).message}`
    const after = undoErrors.length === 0 ? `undone: ${names} ${gives.length > 1 ? 'are' : 'is'} on the host as before and the registry as it was` : `and undoing it failed: ${undoErrors.join('; ')}`
    throw moveError(`${what}; ${after}`, 'move_failed')
  }
}

/** Records a departure like nicLeaves, with the journal's undo putting the
 *  registry back as it was for the NICs it touched. */
function recordDeparture(dep: Departure, journal: Journal): string {
  const touched = (e: Entry) => sameNic(e, dep) || e.name === dep.name
  let before: Entry[] = []
  const note = updateRegistry((reg) => {
    before = structuredClone(reg.nics.filter(touched))
    const n = noteDeparture(reg, dep, new Date().toISOString())
    return { changed: n.changed, value: n }
  })
  log.info(note.message, { nic: dep.name, recorded: note.recordedName })
  journal.undoable(`record ${dep.name} as away`, () =>
    updateRegistry((reg) => {
      reg.nics = [...reg.nics.filter((e) => !touched(e)), ...before].sort((a, b) => a.name.localeCompare(b.name))
      return { changed: true, value: undefined }
    }),
  )
  return note.message
}
