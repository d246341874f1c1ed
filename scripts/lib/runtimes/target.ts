// Where a container's network namespace is: from a container (Docker,
// podman), a PID or a netns file to a path nicback can open and pin, and,
// for a NIC recorded as away, the netns it is in now if that is still alive.
import { existsSync } from 'node:fs'
import { moveError } from '../apply/transit.js'
import { errorText, isNicbackError } from '../system/errors.js'
import { inspectContainer } from './engine.js'
import { sameNic } from '../facts/identity.js'
import { readLinks, readLinksIn } from '../facts/links.js'
import { loadRegistry } from '../state/registry.js'
import { isNetnsFile, isOwnNetns, netnsInode, openNetns, type Netns } from '../system/netns.js'
import type { Away, Entry } from '../types.js'

export interface Target {
  pid?: number | undefined
  /** A netns file (any path), or a name under /run/netns. */
  netns?: string | undefined
  /** A Docker or podman container (name or id); looked up when no pid is given. */
  container?: { id?: string | undefined; name?: string | undefined } | undefined
}

/** Pure: the netns file a target names. */
export function targetPath(t: Target): string {
  const given = [t.pid !== undefined, t.netns !== undefined].filter(Boolean).length
  if (given > 1) throw moveError('give the target as a PID or a netns, not both', 'move_refused')
  if (t.pid !== undefined) {
    if (!Number.isSafeInteger(t.pid) || t.pid <= 0) throw moveError(`"${t.pid}" is not a process id`, 'move_refused')
    return `/proc/${t.pid}/ns/net`
  }
  if (t.netns !== undefined) {
    if (t.netns === '') throw moveError('empty netns name', 'move_refused')
    return t.netns.includes('/') ? t.netns : `/run/netns/${t.netns}`
  }
  throw moveError('no target: give a container, a PID or a netns', 'move_refused')
}

/** Pure: a target for people. */
export function describeTarget(t: Target): string {
  if (t.container?.name || t.container?.id) return `container ${t.container.name ?? t.container.id!.slice(0, 12)}`
  if (t.pid !== undefined) return `pid ${t.pid}`
  return `netns ${t.netns}`
}

export interface Resolved {
  path: string
  where: string
  container: NonNullable<Away['container']>
}

export function resolveTarget(t: Target): Resolved {
  if (t.pid === undefined && t.netns === undefined && t.container !== undefined) {
    const ref = t.container.id ?? t.container.name
    if (!ref) throw moveError('no target: the container has neither a name nor an id', 'move_refused')
    let info
    try {
      info = inspectContainer(ref)
    } catch (err) {
      throw moveError((err as Error).message, 'move_failed')
    }
    if (!info.running) throw moveError(`container ${info.name ?? ref} is not running (${info.status ?? 'no process'}): start it first`, 'move_refused')
    t = { pid: info.pid, container: { id: info.id ?? undefined, name: info.name ?? undefined } }
  }
  const path = targetPath(t)
  const container: NonNullable<Away['container']> = {}
  if (t.container?.id) container.id = t.container.id
  if (t.container?.name) container.name = t.container.name
  if (t.pid !== undefined) container.pid = t.pid
  else container.netns = path
  return { path, where: describeTarget(t), container }
}

export interface Location {
  path: string
  where: string
  /** The engine named it (a running container now): a restarted container
   *  has another netns, where the NIC is not. Else it is a recorded PID or
   *  netns file, which may have been reused since (a PID surely can be). */
  byEngine: boolean
  /** The nsfs inode the NIC went to, when it was recorded. */
  inode: number | undefined
}

/** Where a recorded NIC is now, from what was recorded when it left: its
 *  container (asked again: a restarted container has another netns), else
 *  the PID or netns file. Null: that netns is gone. */
export function locate(entry: Entry): Location | null {
  const c = entry.away?.container
  if (c === undefined) return null
  const inode = entry.away?.netnsInode
  const ref = c.id ?? c.name
  if (ref) {
    try {
      const info = inspectContainer(ref)
      const where = `container ${info.name ?? ref}`
      return info.running ? { path: `/proc/${info.pid}/ns/net`, where, byEngine: true, inode } : null
    } catch (err) {
      if (isNicbackError(err, 'container_not_found')) return null
      // The engine cannot be asked: the PID, checked by its netns inode.
    }
  }
  if (c.pid !== undefined && existsSync(`/proc/${c.pid}/ns/net`)) return { path: `/proc/${c.pid}/ns/net`, where: `pid ${c.pid}`, byEngine: false, inode }
  if (c.netns !== undefined && existsSync(c.netns)) return { path: c.netns, where: `netns ${c.netns}`, byEngine: false, inode }
  return null
}

/** Pure: whether the namespace found at `loc`, whose inode is `actual`, is
 *  the one the NIC was given to. 'elsewhere': the engine's container runs in
 *  another netns now (it was restarted; the NIC's netns died and the kernel
 *  hands it back). A string: a recorded PID or file that now names another
 *  namespace, or one nicback cannot check: nothing may be taken from it. */
export function checkLocation(loc: Location, actual: number): 'same' | 'elsewhere' | string {
  if (loc.inode === actual) return 'same'
  if (loc.byEngine) return loc.inode === undefined ? 'same' : 'elsewhere'
  if (loc.inode === undefined) {
    return `nicback did not record which network namespace the NIC went to, and the container engine cannot be asked: ${loc.where} may not be the container any more (a PID is reused), so nicback takes nothing from it`
  }
  return `${loc.where} is in network namespace net:[${actual}], not net:[${loc.inode}] the NIC was given to: that ${loc.where.startsWith('pid') ? 'process' : 'file'} is not the container's any more (a PID is reused), so nicback takes nothing from it; the NIC comes back when its own namespace dies`
}

/** Opens (pins) the network namespace a target names. Throws a move error. */
export function openTarget(t: Target): { ns: Netns; container: Resolved['container'] } {
  const r = resolveTarget(t)
  try {
    return { ns: openNetns(r.path, r.where), container: r.container }
  } catch (err) {
    throw moveError(errorText(err), isNicbackError(err, 'not_netns') ? 'move_refused' : 'move_failed')
  }
}

/** Recorded NICs that are in `ns` now and not on the host, recognised
 *  strictly by identity (bus, permanent MAC, or MAC and ifindex for a
 *  virtual stand-in). */
export function recordedNicsIn(ns: Netns): string[] {
  if (isOwnNetns(ns.path)) return []
  const inside = readLinksIn(ns)
  const host = readLinks()
  return loadRegistry()
    .nics.filter((e) => !host.some((l) => sameNic(e, l)) && inside.some((l) => sameNic(e, l)))
    .map((e) => e.name)
}

/** The live netns of an away NIC, opened; null when it is gone (or the
 *  engine's container has another netns now). Throws a move error (move_refused)
 *  when a recorded PID or file names a namespace that is not the recorded
 *  one. */
export function openLocation(entry: Entry): Netns | null {
  const loc = locate(entry)
  if (loc === null) return null
  let ns: Netns
  try {
    ns = openNetns(loc.path, loc.where)
  } catch {
    // it died meanwhile: the kernel is handing the NIC back
    return null
  }
  // Checked on the namespace held open, so the PID cannot be reused between
  // the check and the moves.
  const verdict = checkLocation(loc, netnsInode(ns.path))
  if (verdict === 'same' && !isOwnNetns(ns.path)) return ns
  ns.close()
  if (verdict === 'same' || verdict === 'elsewhere') return null
  throw moveError(`${entry.name}: ${verdict}`, 'move_refused', { nic: entry.name })
}

/** Where a container's NICs are now (`nicback release --from`, the poststop
 *  hook): the recorded NICs away in it (`given` says which container a
 *  record names is this one), and the network namespace they are in,
 *  opened; null when it is gone (the kernel hands them back). A running
 *  container (`pid`): its process's netns (throws a move error when it cannot
 *  be opened), and the recorded NICs found in it by identity are added.
 *  Else, with `held`: the first of the netns files it gives, then those recorded
 *  when the NICs left, that is still a netns (one that outlives the
 *  container's processes: a netns it joined, Docker's bind mount). */
export function containerNicsNow(
  entries: readonly Entry[],
  given: (c: Away['container']) => boolean,
  at: { pid?: number | undefined; container?: Target['container']; held?: () => readonly (string | undefined)[]; who?: string },
): { names: string[]; from: Netns | null } {
  const recorded = entries.filter((e) => e.away !== null && given(e.away.container))
  const names = recorded.map((e) => e.name)
  if (at.pid !== undefined) {
    const from = openTarget({ pid: at.pid, container: at.container }).ns
    for (const n of recordedNicsIn(from)) if (!names.includes(n)) names.push(n)
    return { names, from }
  }
  if (names.length === 0 || at.held === undefined) return { names, from: null }
  const path = [...at.held(), ...recorded.map((e) => e.away?.container?.netns)].find((p) => p && isNetnsFile(p))
  if (path === undefined) return { names, from: null }
  try {
    return { names, from: openNetns(path, at.who ?? `netns ${path}`) }
  } catch {
    return { names, from: null } // gone meanwhile: the kernel hands them back
  }
}
