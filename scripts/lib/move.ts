// Moving a NIC into a container's network namespace and taking it back out:
// the seed's section 2.2 done so that the host name is recorded before
// anything moves, every step is checked, and a failed step undoes the ones
// before it. Shared by `nicback assign` / `release` and the OCI hook.
//
// The target netns is opened once and held open for the whole operation
// (/proc/<nicback>/fd/N), so every step addresses the same namespace even if
// the container's PID dies and is reused meanwhile, and nothing is ever
// linked under /run/netns. Steps inside run `ip` under `nsenter --net`,
// which is fine for netlink; sysfs is never read through it (it would show
// the host's devices), the bus of a device inside comes from its parent
// device (`ip -d link`'s parentbus/parentdev, not namespaced in sysfs).
import { closeSync, existsSync, openSync, realpathSync, statfsSync } from 'node:fs'
import { ContainerError, inspectContainer, isOwnNetns, NSFS_MAGIC } from './container.js'
import { run, which } from './exec.js'
import { identityKey, matchNics, sameNic } from './identity.js'
import { noteDeparture, type Departure } from './leave.js'
import { busFromDevicePath, fromNetlink, isLoopback, readLinks, type IpLink } from './links.js'
import { log } from './log.js'
import { notifyNetworkManagers } from './notify.js'
import { describeAway, isFallbackName, isValidIfname, tempName } from './planner.js'
import { loadRegistry, updateRegistry } from './registry.js'
import { nicReturns, type RestoreReport } from './return.js'
import type { Away, Entry, Link } from './types.js'
import { waitForReturn } from './wait.js'

export interface Target {
  pid?: number | undefined
  /** A netns file (any path), or a name under /run/netns. */
  netns?: string | undefined
  /** A Docker or podman container (name or id); looked up when no pid is given. */
  container?: { id?: string | undefined; name?: string | undefined } | undefined
}

export interface GiveOptions {
  /** Its name inside (default: its host name). */
  insideName?: string | undefined
  /** Move it although it is virtual, carries the default route or a host
   *  address, or is recorded as away. */
  force?: boolean | undefined
  via: 'assign' | 'hook'
}

export interface GiveResult {
  hostName: string
  insideName: string
  /** Its ifindex inside, after the move (the kernel may change it). */
  ifindex: number
  /** Where it went, for people ("container c1", "pid 1234", "netns /run/netns/x"). */
  where: string
  container: NonNullable<Away['container']>
  /** Every step done, in order. */
  steps: string[]
  /** What was recorded. */
  recorded: string
}

export interface TakeBackOptions {
  /** How long to wait for the kernel to hand it back when its netns is gone. */
  timeoutMs?: number | undefined
  /** Where it is, when the caller knows (else: from the registry). */
  target?: Target | undefined
}

export interface TakeBackResult {
  name: string
  /** pulled: taken out of a live netns; returned: the kernel handed it back
   *  (netns gone), nicback restored it; home: nothing to do. */
  how: 'pulled' | 'returned' | 'home'
  /** Where it was taken from (pulled), null otherwise. */
  from: string | null
  steps: string[]
  report: RestoreReport | null
  /** udev was asked to tell the network manager. */
  notified: boolean
  ok: boolean
  errors: string[]
}

/** A refusal (the NIC was not touched) or a failure (undone as far as the
 *  message says). `overridable`: --force would move it anyway. */
export class MoveError extends Error {
  constructor(
    message: string,
    readonly kind: 'refused' | 'failed',
    readonly overridable = false,
  ) {
    super(message)
  }
}

// ---------------------------------------------------------------- targets

/** Pure: the netns file a target names. */
export function targetPath(t: Target): string {
  const given = [t.pid !== undefined, t.netns !== undefined].filter(Boolean).length
  if (given > 1) throw new MoveError('give the target as a PID or a netns, not both', 'refused')
  if (t.pid !== undefined) {
    if (!Number.isSafeInteger(t.pid) || t.pid <= 0) throw new MoveError(`"${t.pid}" is not a process id`, 'refused')
    return `/proc/${t.pid}/ns/net`
  }
  if (t.netns !== undefined) {
    if (t.netns === '') throw new MoveError('empty netns name', 'refused')
    return t.netns.includes('/') ? t.netns : `/run/netns/${t.netns}`
  }
  throw new MoveError('no target: give a container, a PID or a netns', 'refused')
}

/** Pure: a target for people. */
export function describeTarget(t: Target): string {
  if (t.container?.name || t.container?.id) return `container ${t.container.name ?? t.container.id!.slice(0, 12)}`
  if (t.pid !== undefined) return `pid ${t.pid}`
  return `netns ${t.netns}`
}

interface Resolved {
  path: string
  where: string
  container: NonNullable<Away['container']>
}

function resolveTarget(t: Target): Resolved {
  if (t.pid === undefined && t.netns === undefined && t.container !== undefined) {
    const ref = t.container.id ?? t.container.name
    if (!ref) throw new MoveError('no target: the container has neither a name nor an id', 'refused')
    let info
    try {
      info = inspectContainer(ref)
    } catch (err) {
      throw new MoveError((err as Error).message, 'failed')
    }
    if (!info.running) throw new MoveError(`container ${info.name ?? ref} is not running (${info.status ?? 'no process'}): start it first`, 'refused')
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

interface Netns {
  /** The namespace as every child process can open it while we hold it. */
  path: string
  where: string
  close(): void
}

/** Opens (and so pins) a network namespace file. */
function openNetns(path: string, where: string): Netns {
  if (!existsSync(path)) {
    const why = path.startsWith('/proc/') ? 'no such process' : 'no such file'
    throw new MoveError(`cannot open the network namespace of ${where} (${path}): ${why}`, 'failed')
  }
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (err) {
    throw new MoveError(`cannot open the network namespace of ${where} (${path}): ${(err as Error).message}`, 'failed')
  }
  const held = `/proc/${process.pid}/fd/${fd}`
  let type: number
  try {
    type = Number(statfsSync(held).type)
  } catch (err) {
    closeSync(fd)
    throw new MoveError(`cannot read ${path}: ${(err as Error).message}`, 'failed')
  }
  if (type !== NSFS_MAGIC) {
    closeSync(fd)
    throw new MoveError(`${path} is not a namespace file (a netns name under /run/netns, /proc/PID/ns/net or a bind mount of one)`, 'refused')
  }
  let open = true
  return {
    path: held,
    where,
    close() {
      if (open) closeSync(fd)
      open = false
    },
  }
}

/** `ip ARGS` inside the namespace. */
function ipIn(ns: Netns, args: string[]): string {
  return run('nsenter', [`--net=${ns.path}`, '--', which('ip'), ...args])
}

const hostNetns = () => `/proc/${process.pid}/ns/net`

// ------------------------------------------------------- devices inside

/** The bus identity of a device's parent (`ip -d link`'s parentbus and
 *  parentdev): /sys/bus is not namespaced, so this works for a device in any
 *  netns. Same form as links.ts reads from /sys/class/net (nearest PCI
 *  function for a virtio child). */
export function busOfParent(bus: string, dev: string): string | null {
  try {
    return busFromDevicePath(realpathSync(`/sys/bus/${bus}/devices/${dev}`))
  } catch {
    return null
  }
}

/** Pure: Links out of `ip -json -details link show` run in another netns. */
export function linksFromIpJson(raw: IpLink[], busOf: (bus: string, dev: string) => string | null = busOfParent): Link[] {
  return raw.filter((l) => !isLoopback(l)).map((l) => ({
    ...fromNetlink(l),
    bus: l.parentbus && l.parentdev ? busOf(l.parentbus, l.parentdev) : null,
    devPort: null,
    driver: null,
  }))
}

function linksIn(ns: Netns): Link[] {
  const out = ipIn(ns, ['-json', '-details', 'link', 'show'])
  return linksFromIpJson(out.trim() === '' ? [] : (JSON.parse(out) as IpLink[]))
}

/** Pure: a recorded NIC among the devices of a container's netns. By what a
 *  container cannot forge (bus, permanent MAC) first; a NIC recorded by MAC
 *  only (a virtual stand-in) whose MAC the container changed is found by the
 *  name nicback gave it there, if exactly one virtual device has it. */
export function findNic(entry: Entry, links: readonly Link[]): Link | undefined {
  let c = links.filter((l) => sameNic(entry, l))
  const hints = [entry.away?.insideName, entry.away?.leftAs, entry.name].filter((h): h is string => h !== undefined)
  if (c.length > 1) {
    for (const h of hints) {
      const byName = c.filter((l) => l.name === h)
      if (byName.length === 1) return byName[0]
    }
    return undefined
  }
  if (c.length === 0 && entry.bus === null && entry.permAddr === null) {
    for (const h of hints) {
      c = links.filter((l) => l.name === h && l.bus === null && l.permAddr === null)
      if (c.length === 1) return c[0]
    }
    return undefined
  }
  return c[0]
}

function namesOf(...lists: Link[][]): Set<string> {
  const s = new Set<string>()
  for (const l of lists.flat()) {
    s.add(l.name)
    for (const a of l.altnames) s.add(a)
  }
  return s
}

// ------------------------------------------------------------ refusals

/** Device kinds the kernel never moves to another netns (netns_immutable,
 *  formerly NETIF_F_NETNS_LOCAL). */
export const NETNS_LOCAL_KINDS = new Set(['bridge', 'bond', 'team', 'vrf', 'hsr', 'openvswitch', 'batadv', 'amt', 'ppp'])

export interface AssignFacts {
  hostName: string
  link: Link
  /** The registry's entry for this NIC, if any. */
  recorded: Entry | undefined
  wireless: boolean
  insideName: string
  /** Devices in the target netns. */
  inside: readonly Link[]
  where: string
  /** How the host uses it; undefined when not looked at (--force). */
  use?: HostUse | undefined
}

export interface HostUse {
  defaultRoute: boolean
  addresses: string[]
}

/** Pure: why a NIC must not be moved. `fatal` ones cannot be overridden. */
export function assignRefusals(f: AssignFacts): { fatal: string[]; overridable: string[] } {
  const fatal: string[] = []
  const overridable: string[] = []
  const { hostName: n, link } = f
  if (link.kind !== null && NETNS_LOCAL_KINDS.has(link.kind)) {
    fatal.push(`${n} is a ${link.kind} device, which the kernel never moves to another network namespace`)
  }
  if (f.wireless) fatal.push(`${n} is a wireless NIC: the kernel moves those only with their phy ("iw phy PHY set netns PID")`)
  if (isFallbackName(n) && (f.recorded === undefined || f.recorded.name !== n)) {
    fatal.push(`${n} is a kernel fallback or nicback temporary name, not a host name: give it its name back first ("nicback restore")`)
  }
  if (!isValidIfname(f.insideName)) {
    fatal.push(`"${f.insideName}" is not a valid interface name (1-15 bytes, no "/", ":" or white space)`)
  } else {
    // Every network namespace has its loopback, which the lists of NICs leave out.
    const holder = f.insideName === 'lo' ? { name: 'lo' } : f.inside.find((l) => l.name === f.insideName || l.altnames.includes(f.insideName))
    if (holder !== undefined) {
      const how = holder.name === f.insideName ? 'a device' : `an altname of ${holder.name}`
      fatal.push(`"${f.insideName}" is already ${how} in ${f.where}: ${f.insideName === n ? 'give it another name there with --as NAME' : 'choose another --as NAME'}`)
    }
  }
  const rec = f.recorded
  if (rec?.away) {
    overridable.push(`nicback recorded it as away (${rec.name} left as ${rec.away.leftAs} via ${rec.away.via} at ${rec.away.since}) and has not seen it come home: run "nicback restore ${n}" first`)
  }
  if (link.bus === null) {
    overridable.push(`${n} is a virtual device (no bus): the kernel destroys it with the container's netns instead of giving it back`)
  }
  if (f.use?.defaultRoute) overridable.push(`${n} carries this host's default route`)
  if (f.use && f.use.addresses.length > 0) {
    overridable.push(`${n} has the host address${f.use.addresses.length > 1 ? 'es' : ''} ${f.use.addresses.join(', ')}, which the host would lose`)
  }
  return { fatal, overridable }
}

const isLinkLocal = (a: string) => /^169\.254\./.test(a) || /^fe[89ab][0-9a-f]:/i.test(a)

/** Whether the host uses the NIC. The default route comes from the kernel
 *  (`ip route show default`, IPv4 and IPv6, multipath included), not from
 *  systeminformation's `default` flag: with no default route at all it names
 *  the first interface that has an address (seen in the VM: it called an
 *  unconfigured ens3 "default"), and it reads only the first IPv4 route.
 *  Addresses: systeminformation's (loaded here only, ~100 ms; it skips
 *  interfaces without carrier) and every one `ip address` shows; link-local
 *  ones do not count (every IPv6 interface that is up has one). */
export async function hostUse(name: string): Promise<HostUse> {
  const addresses = new Set<string>()
  try {
    const mod = await import('systeminformation')
    // A CommonJS package: its functions are on `default` once bundled.
    const si = typeof mod.networkInterfaces === 'function' ? mod : (mod as unknown as { default: typeof mod }).default
    const all = await si.networkInterfaces()
    const me = (Array.isArray(all) ? all : [all]).find((i) => i.iface === name)
    for (const a of me ? [me.ip4, me.ip6] : []) if (a && !isLinkLocal(a)) addresses.add(a)
  } catch (err) {
    log.warn(`systeminformation could not list the host's interfaces (${(err as Error).message}); using ip alone`)
  }
  type Route = { dev?: string; nexthops?: { dev?: string }[] }
  let defaultRoute = false
  for (const fam of ['-4', '-6']) {
    try {
      const routes = JSON.parse(run('ip', ['-json', fam, 'route', 'show', 'default']) || '[]') as Route[]
      defaultRoute ||= routes.some((r) => r.dev === name || (r.nexthops ?? []).some((h) => h.dev === name))
    } catch {
      // no such family: no route
    }
  }
  const addrs = JSON.parse(run('ip', ['-json', 'address', 'show', 'dev', name]) || '[]') as { addr_info?: { local?: string }[] }[]
  for (const a of addrs.flatMap((x) => x.addr_info ?? [])) if (a.local && !isLinkLocal(a.local)) addresses.add(a.local)
  return { defaultRoute, addresses: [...addresses] }
}

function isWireless(name: string): boolean {
  return existsSync(`/sys/class/net/${name}/phy80211`) || existsSync(`/sys/class/net/${name}/wireless`)
}

/** Why a NIC is not on the host under `name`. */
function notHere(name: string, entries: readonly Entry[], links: readonly Link[]): string {
  const entry = entries.find((e) => e.name === name)
  if (entry?.away) return `${name} is already away (${describeAway(entry.away)}): bring it back first with "nicback release ${name}"`
  const now = entry ? matchNics([entry], links).found.get(entry) : undefined
  if (now) return `${name} is on the host as ${now.name}: give it its name back first ("nicback restore ${name}")`
  return `no network device named ${name} in this network namespace`
}

// ------------------------------------------------------------ steps

/** Test hook: NICBACK_FAIL_AT=<point> makes that step fail, to prove undo. */
function fault(at: string): void {
  if (process.env.NICBACK_FAIL_AT === at) throw new Error(`NICBACK_FAIL_AT=${at}: injected failure`)
}

/** Steps done so far, each with its undo. */
class Steps {
  readonly done: string[] = []
  private readonly undos: { what: string; undo: () => void }[] = []

  do(what: string, fn: () => void, undo?: () => void): void {
    try {
      fn()
    } catch (err) {
      throw new StepFailed(what, err as Error)
    }
    this.done.push(what)
    if (undo) this.undos.push({ what, undo })
  }

  /** Registers the undo of something done outside do(). */
  undoable(what: string, undo: () => void): void {
    this.undos.push({ what, undo })
  }

  /** Undoes in reverse; returns what could not be undone. */
  rollback(): string[] {
    const errors: string[] = []
    for (const u of this.undos.reverse()) {
      try {
        u.undo()
      } catch (err) {
        errors.push(`undo of "${u.what}" failed: ${(err as Error).message}`)
      }
    }
    this.undos.length = 0
    return errors
  }
}

class StepFailed extends Error {
  constructor(
    readonly what: string,
    override readonly cause: Error,
  ) {
    super(`failed to ${what}: ${cause.message.trim()}`)
  }
}

/** Takes the device `dev` out of `ns` to the host as `hostName`: down, MAC
 *  back, renamed inside to a name free on both sides, then one move that
 *  also renames it to `hostName` as it arrives (so the host never sees devN
 *  or its container name, and udev gets no chance to put an altname in the
 *  way). `hostName` must be free on the host. */
function pullOut(ns: Netns, dev: Link, hostName: string, mac: string | null, steps: Steps, hostLinks: Link[]): void {
  // The name it travels under must be free on both sides: its host name
  // when nothing inside has it (the host then sees nothing else), else
  // nicback's temporary name (recognised as such if anything dies midway).
  const taken = namesOf(linksIn(ns), hostLinks)
  const tmp = taken.has(hostName) ? tempName(dev.ifindex, taken) : hostName
  const name = dev.name
  // Until the rename, the device is `name`; its undos run after the rename
  // is undone, so they address it by that name too.
  if (dev.up) {
    steps.do(`set "${name}" down in ${ns.where}`, () => void ipIn(ns, ['link', 'set', 'dev', name, 'down']), () => void ipIn(ns, ['link', 'set', 'dev', name, 'up']))
  }
  if (mac !== null && dev.mac !== null && dev.mac !== mac) {
    const was = dev.mac
    steps.do(
      `set the MAC of "${name}" back to ${mac} (was ${was})`,
      () => void ipIn(ns, ['link', 'set', 'dev', name, 'address', mac]),
      () => void ipIn(ns, ['link', 'set', 'dev', name, 'address', was]),
    )
  }
  let at = name
  if (name !== tmp) {
    steps.do(
      `rename "${name}" to "${tmp}" in ${ns.where}`,
      () => void ipIn(ns, ['link', 'set', 'dev', name, 'name', tmp]),
      () => void ipIn(ns, ['link', 'set', 'dev', tmp, 'name', name]),
    )
    at = tmp
  }
  steps.do(`move "${at}" to the host as "${hostName}"`, () => {
    fault('move-out')
    ipIn(ns, ['link', 'set', 'dev', at, 'netns', hostNetns(), 'name', hostName])
  })
}

// ------------------------------------------------------------ give

/** Records a departure like nicLeaves, remembering what it replaced so that
 *  a failed move can put the registry back as it was. */
function recordDeparture(dep: Departure): { message: string; undo: () => void } {
  const touched = (e: Entry) => sameNic(e, dep) || e.name === dep.name
  let before: Entry[] = []
  const note = updateRegistry((reg) => {
    before = structuredClone(reg.nics.filter(touched))
    const n = noteDeparture(reg, dep, new Date().toISOString())
    return { changed: n.changed, value: n }
  })
  log.info(note.message)
  return {
    message: note.message,
    undo: () =>
      updateRegistry((reg) => {
        reg.nics = [...reg.nics.filter((e) => !touched(e)), ...before].sort((a, b) => a.name.localeCompare(b.name))
        return { changed: true, value: undefined }
      }),
  }
}

/** Gives the host NIC `hostName` to a container's network namespace: checks
 *  every refusal, records it (name, identity, MTU, admin state, where it
 *  goes) before anything moves, moves it (renamed to `insideName` as it
 *  arrives), brings it up if it was up. A failed step undoes the ones
 *  before it, the registry included. Throws MoveError. */
export async function giveNic(hostName: string, target: Target, opts: GiveOptions): Promise<GiveResult> {
  const t = resolveTarget(target)
  const ns = openNetns(t.path, t.where)
  try {
    if (isOwnNetns(ns.path)) {
      throw new MoveError(`refusing to move ${hostName} to ${t.where}: that is this host's own network namespace (a container run with --network host?)`, 'refused')
    }
    const links = readLinks()
    const link = links.find((l) => l.name === hostName)
    const entries = loadRegistry().nics
    if (link === undefined) throw new MoveError(notHere(hostName, entries, links), 'refused')
    const recorded = entries.filter((e) => sameNic(e, link)).sort((a, b) => Number(b.name === hostName) - Number(a.name === hostName))[0]
    const insideName = opts.insideName ?? hostName
    const facts: AssignFacts = { hostName, link, recorded, wireless: isWireless(hostName), insideName, inside: linksIn(ns), where: t.where }
    const first = assignRefusals(facts)
    if (first.fatal.length > 0) throw new MoveError(`refusing to move ${hostName} to ${t.where}: ${first.fatal.join('; ')}`, 'refused')
    if (!opts.force) {
      const { overridable } = assignRefusals({ ...facts, use: await hostUse(hostName) })
      if (overridable.length > 0) {
        throw new MoveError(`refusing to move ${hostName} to ${t.where}: ${overridable.join('; ')}. --force moves it anyway`, 'refused', true)
      }
    } else if (first.overridable.length > 0) {
      log.warn(`moving ${hostName} although ${first.overridable.join('; ')} (--force)`)
    }

    const dep: Departure = {
      name: hostName,
      ifindex: link.ifindex,
      bus: link.bus,
      devPort: link.devPort,
      permAddr: link.permAddr,
      mac: link.mac,
      via: opts.via,
      live: link,
      container: t.container,
      insideName: insideName !== hostName ? insideName : undefined,
    }
    const rec = recordDeparture(dep)
    const steps = new Steps()
    const renamed = insideName !== hostName ? ` as "${insideName}"` : ''
    try {
      // Undo of the move: take it back out under its host name, as it was.
      const undoMove = () => {
        const there = linksIn(ns).find((l) => l.name === insideName || l.name === hostName)
        if (there === undefined) throw new Error(`neither "${insideName}" nor "${hostName}" is in ${t.where}`)
        pullOut(ns, there, hostName, null, new Steps(), readLinks())
        if (link.up) run('ip', ['link', 'set', 'dev', hostName, 'up'])
      }
      try {
        steps.do(`move "${hostName}" to ${t.where}${renamed}`, () => {
          fault('move')
          // One request: the kernel moves it, then renames it inside.
          run('ip', ['link', 'set', 'dev', hostName, 'netns', ns.path, ...(renamed ? ['name', insideName] : [])])
        })
      } catch (err) {
        // The move may have happened and only the rename inside failed.
        if (!readLinks().some((l) => l.name === hostName && l.ifindex === link.ifindex)) steps.undoable('move it back', undoMove)
        throw err
      }
      steps.undoable(`move "${hostName}" to ${t.where}`, undoMove)
      const there = linksIn(ns).find((l) => l.name === insideName)
      if (there === undefined) throw new StepFailed(`find "${insideName}" in ${t.where} after the move`, new Error('it is not there'))
      if (link.up) {
        steps.do(
          `set "${insideName}" up in ${t.where}`,
          () => {
            fault('up')
            ipIn(ns, ['link', 'set', 'dev', insideName, 'up'])
          },
          () => void ipIn(ns, ['link', 'set', 'dev', insideName, 'down']),
        )
      }
      log.info(`${hostName} is in ${t.where}${renamed}${link.up ? ', up' : ''}`)
      return { hostName, insideName, ifindex: there.ifindex, where: t.where, container: t.container, steps: steps.done, recorded: rec.message }
    } catch (err) {
      const undoErrors = steps.rollback()
      try {
        rec.undo()
      } catch (e) {
        undoErrors.push(`undo of the registry record failed: ${(e as Error).message}`)
      }
      const what = err instanceof StepFailed ? err.message : `failed to move ${hostName}: ${(err as Error).message}`
      const after = undoErrors.length === 0 ? `undone: ${hostName} is on the host as before and the registry as it was` : `and undoing it failed: ${undoErrors.join('; ')}`
      throw new MoveError(`${what}; ${after}`, 'failed')
    }
  } finally {
    ns.close()
  }
}

// ------------------------------------------------------------ take back

/** Recorded NICs that are in the target's netns now, recognised strictly by
 *  identity (bus, permanent MAC, or MAC for a virtual stand-in). */
export function recordedNicsIn(target: Target): string[] {
  const t = resolveTarget(target)
  const ns = openNetns(t.path, t.where)
  try {
    if (isOwnNetns(ns.path)) return []
    const inside = linksIn(ns)
    const host = readLinks()
    return loadRegistry()
      .nics.filter((e) => !host.some((l) => sameNic(e, l)) && inside.some((l) => sameNic(e, l)))
      .map((e) => e.name)
  } finally {
    ns.close()
  }
}

interface Location {
  path: string
  where: string
}

/** Where a recorded NIC is now, from what was recorded when it left: its
 *  container (asked again: a restarted container has another netns), else
 *  the PID or netns file. Null: that netns is gone. */
function locate(entry: Entry): Location | null {
  const c = entry.away?.container
  if (c === undefined) return null
  const ref = c.id ?? c.name
  if (ref) {
    try {
      const info = inspectContainer(ref)
      const where = `container ${info.name ?? ref}`
      return info.running ? { path: `/proc/${info.pid}/ns/net`, where } : null
    } catch (err) {
      if (err instanceof ContainerError && err.notFound) return null
      // The engine cannot be asked: the PID, checked below by identity.
    }
  }
  if (c.pid !== undefined && existsSync(`/proc/${c.pid}/ns/net`)) return { path: `/proc/${c.pid}/ns/net`, where: `pid ${c.pid}` }
  if (c.netns !== undefined && existsSync(c.netns)) return { path: c.netns, where: `netns ${c.netns}` }
  return null
}

/** Sets the recorded MAC back on a NIC that is on the host (down if needed). */
function macBack(entry: Entry, mac: string | null, steps: Steps): void {
  if (mac === null) return
  const dev = matchNics([entry], readLinks()).found.get(entry)
  if (dev === undefined || dev.mac === null || dev.mac === mac) return
  const set = () => void run('ip', ['link', 'set', 'dev', dev.name, 'address', mac])
  steps.do(`set the MAC of "${dev.name}" back to ${mac} (was ${dev.mac})`, () => {
    try {
      set()
    } catch (err) {
      if (!dev.up) throw err
      run('ip', ['link', 'set', 'dev', dev.name, 'down'])
      try {
        set()
      } finally {
        run('ip', ['link', 'set', 'dev', dev.name, 'up'])
      }
    }
  })
}

/** The end of every way back: name, MTU, admin state (nicReturns, which
 *  verifies against the kernel and marks it home), then the manager. */
function finish(name: string, how: TakeBackResult['how'], from: string | null, steps: Steps): TakeBackResult {
  const report = nicReturns({ select: { kind: 'names', names: [name] } })
  for (const s of report.steps) steps.done.push(s.description)
  const notified = report.ok ? notifyNetworkManagers(name) : false
  return { name, how, from, steps: steps.done, report, notified, ok: report.ok, errors: report.errors }
}

/** Brings the recorded NIC `hostName` home. If its container (netns) is
 *  alive, takes it out cleanly (no devN ever appears) and restores its name,
 *  MAC, MTU and admin state; if the netns is gone, waits (on link events,
 *  bounded by timeoutMs) for the kernel to hand it back, then restores it.
 *  Throws MoveError when it cannot start or the NIC does not come back. */
export async function takeBackNic(hostName: string, opts: TakeBackOptions = {}): Promise<TakeBackResult> {
  const entry = loadRegistry().nics.find((e) => e.name === hostName)
  if (entry === undefined) throw new MoveError(`${hostName} is not a recorded NIC (see "nicback status")`, 'failed')
  // The MAC it had on the host, read before anything can overwrite the record.
  const mac = entry.mac ?? entry.permAddr
  const steps = new Steps()
  const here = matchNics([entry], readLinks()).found.get(entry)
  if (here !== undefined) {
    if (here.name === hostName && entry.away === null) {
      return { name: hostName, how: 'home', from: null, steps: [], report: null, notified: false, ok: true, errors: [] }
    }
    macBack(entry, mac, steps)
    return finish(hostName, 'returned', null, steps)
  }
  if (entry.away === null && opts.target === undefined) {
    throw new MoveError(`${hostName} is not in this network namespace and nicback did not see it leave: say where it is with --from CONTAINER`, 'failed')
  }

  const loc: Location | null = opts.target ? (() => {
    const t = resolveTarget(opts.target)
    return { path: t.path, where: t.where }
  })() : locate(entry)
  let ns: Netns | null = null
  try {
    if (loc !== null) {
      try {
        ns = openNetns(loc.path, loc.where)
      } catch {
        ns = null // it died meanwhile: the kernel is handing the NIC back
      }
    }
    if (ns !== null && !isOwnNetns(ns.path)) {
      const dev = findNic(entry, linksIn(ns))
      if (dev === undefined) {
        throw new MoveError(`${hostName} is neither on the host nor in ${loc!.where} (${entry.away ? describeAway(entry.away) : 'not recorded as away'}); see "nicback status"`, 'failed')
      }
      const hostLinks = readLinks()
      const holder = hostLinks.find((l) => l.name === hostName || l.altnames.includes(hostName))
      if (holder !== undefined) {
        throw new MoveError(
          `refusing to take ${hostName} out of ${loc!.where}: "${hostName}" is now ${holder.name === hostName ? 'the name' : 'an altname'} of ${holder.name} (ifindex ${holder.ifindex}, ${identityKey(holder)}) on the host; rename that device first`,
          'refused',
        )
      }
      try {
        pullOut(ns, dev, hostName, mac, steps, hostLinks)
      } catch (err) {
        const undoErrors = steps.rollback()
        const after = undoErrors.length === 0 ? `undone: ${hostName} is still in ${loc!.where} as "${dev.name}"` : `and undoing it failed: ${undoErrors.join('; ')}`
        throw new MoveError(`${(err as Error).message}; ${after}`, 'failed')
      }
      return finish(hostName, 'pulled', loc!.where, steps)
    }
  } finally {
    ns?.close()
  }

  // Its netns is gone: the kernel hands it back by itself, asynchronously.
  const timeoutMs = opts.timeoutMs ?? 30_000
  log.info(`${hostName}'s network namespace is gone (${entry.away ? describeAway(entry.away) : 'not recorded as away'}); waiting up to ${timeoutMs / 1000} s for the kernel to hand it back`)
  const { missing } = await waitForReturn([hostName], timeoutMs)
  if (missing.length > 0) {
    throw new MoveError(
      `${hostName} did not come back within ${timeoutMs / 1000} s: something still holds its network namespace (a process, a bind mount under /run/netns or /run/docker/netns), or it is a virtual device, which dies with it`,
      'failed',
    )
  }
  macBack(entry, mac, steps)
  return finish(hostName, 'returned', null, steps)
}
