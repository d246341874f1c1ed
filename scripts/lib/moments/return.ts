// Moment two: a NIC returns to the host. Every way back comes here:
//   nicReturns    the NICs are on the host (udev add/move, `nicback
//                 restore`): facts in, pure plan, steps out, the result read
//                 back from the kernel before anything is recorded, then the
//                 network manager told;
//   nicsComeBack  they may still be in a container's netns (`release`, the
//                 poststop hook): taken out of it if it is alive (apply/
//                 transit.ts), else waited for until the kernel hands them
//                 back, then nicReturns.
import { applyPlan, type ApplyResult, type SettingError } from '../apply/executor.js'
import { hostKernel, type Kernel } from '../apply/kernel.js'
import { notifyNetworkManagers } from '../apply/notify.js'
import { isMoveError, pullOut } from '../apply/transit.js'
import { identityKey, matchNics, sameNic } from '../facts/identity.js'
import { isFallbackName } from '../facts/names.js'
import { policyName } from '../facts/policy.js'
import { hostNameSources } from '../facts/name-sources.js'
import { adoptions, looksReturned, type Adoption } from '../plan/origin.js'
import { handOverRepairs } from '../plan/repair.js'
import { nicsWithUdev, stillWithUdev } from '../facts/udevdb.js'
import { describeAway, describeStep } from '../plan/describe.js'
import { heldOnHost, planRestore, type Decision, type Plan, type Step } from '../plan/planner.js'
import { loadRegistry, updateRegistry } from '../state/registry.js'
import type { ErrorCode } from '../system/errors.js'
import { log } from '../system/log.js'
import { stopwatch } from '../system/stopwatch.js'
import type { Netns } from '../system/netns.js'
import type { Entry, Link, NameSource, UnnamedNic } from '../types.js'
import { countRun } from './metrics.js'
import { waitForReturn } from './wait.js'

/** Which misnamed NICs to bring home:
 *  - returned: those seen leaving (udev, hook, assign), or carrying a kernel
 *    fallback (devN) or nicback temporary name: what the automatic paths do;
 *  - all: every recorded NIC that is present under another name;
 *  - names: these, by recorded name or current name. */
export type Selection = { kind: 'returned' } | { kind: 'all' } | { kind: 'names'; names: string[] }

export function wanted(sel: Selection): (e: Entry, l: Link) => boolean {
  switch (sel.kind) {
    case 'returned':
      return (e, l) => e.away !== null || isFallbackName(l.name)
    case 'all':
      return () => true
    case 'names':
      return (e, l) => sel.names.includes(e.name) || sel.names.includes(l.name)
  }
}

export interface NicResult extends Decision {
  /** Its name before this run (`now` is its name after). */
  was: string | null
  /** Where the name came from: the registry, or for a NIC that had no
   *  record, the source it was found in (plan/origin.ts). */
  source: NameSource
  /** Verified by reading the kernel back after applying. */
  home: boolean
}

export interface RestoreReport {
  dryRun: boolean
  steps: { op: Step['op']; description: string }[]
  nics: NicResult[]
  errors: string[]
  /** Every NIC asked for is home. */
  ok: boolean
  ms: number
}

export interface RestoreOptions {
  select: Selection
  dryRun?: boolean
  lockTimeoutSec?: number
  /** Tell the network manager about every NIC that came home (default true). */
  notify?: boolean
  /** CLOCK_MONOTONIC microseconds of the udev event's device's return
   *  (USEC_INITIALIZED), for the return-to-name metric of NICs whose own
   *  entry in udev's database cannot be read (moments/metrics.ts countRun). */
  returnedAtUsec?: bigint | null
  /** The kernel the run changes (apply/kernel.ts); the machine's by default. */
  kernel?: Kernel
  /** The udev event this process runs for (the rule's RUN program): udevd
   *  starts no later event of that device before this process exits, so the
   *  run never waits for one (udevWait). */
  udevEvent?: { ifindex: number | null }
}

/** Brings returned NICs home: plan, apply, read back, record, tell the
 *  network manager. Idempotent: a second run finds nothing to do. Runs are
 *  serialised by the registry's lock. */
export function nicReturns(opts: RestoreOptions): RestoreReport {
  const t0 = performance.now()
  const clock = stopwatch()
  const kernel = opts.kernel ?? hostKernel()
  const report = updateRegistry(
    (reg) => {
      clock.mark('lock')
      // The lock taken first: its flock(1) runs while udevd works, not after.
      // NICs udevd still named when the wait ended: the links read next may
      // be older than its names and altnames for them.
      const stale = opts.dryRun ? NONE : udevSettles(opts.udevEvent?.ifindex ?? null)
      clock.mark('udevd naming')
      // The links the latest plan was made from: NICs still coming back
      // while udevd names them are in a later read than the first.
      let links = kernel.links()
      clock.mark('links')
      // Records an earlier nicback wrote under a mover's hand-over name get
      // the host's name, and the NIC with it (plan/repair.ts).
      const repairs = handOverRepairs(reg.nics, links, (l) => policyName(l.ifindex))
      for (const r of repairs) {
        r.entry.name = r.to
        log.info(`${r.message}: ${opts.dryRun ? 'a run would repair the record and rename the NIC' : 'record repaired'}`, { nic: r.to, was: r.from, cause: 'recorded under a hand-over name' })
      }
      const repaired = new Set(repairs.map((r) => r.entry))
      const want = wanted(opts.select)
      // NICs back with no record get the name the host's sources give them
      // (plan/origin.ts): in the plan as recorded NICs, kept in the registry
      // only once home under it.
      const pick = picked(opts.select, reg.unnamed ?? [])
      const sources = nameSources()
      let found: Adoption[] = []
      let adopted: Entry[] = []
      // Renames are tried while up (kernels from 6.2); read at each call: an
      // EBUSY answer below teaches the kernel port otherwise.
      // `leave`: devices this run does not touch (udevd still names them).
      const planOn = (links: Link[], leave: ReadonlySet<number> = NONE) => {
        const base = reg.nics.filter((e) => !adopted.includes(e))
        found = adoptions(links, base, sources, (l) => !leave.has(l.ifindex) && pick(l), new Date().toISOString())
        adopted = stableOrder(
          adopted,
          found.flatMap((a) => (a.entry === null ? [] : [a.entry])),
        )
        reg.nics = [...base, ...adopted]
        return planRestore(links, reg.nics, { want: (e, l) => !leave.has(l.ifindex) && (repaired.has(e) || adopted.includes(e) || want(e, l)), renameWhileUp: kernel.renameWhileUp })
      }
      let plan = planOn(links)
      clock.mark('plan')
      if (opts.dryRun) return { changed: false, value: withSources(summarize(plan, links, reg.nics, opts, noNames(found, opts.select), true), found) }

      const errors: string[] = []
      // Every plan applied in this run, in order: an attempt planned again
      // finds home what an earlier one brought there.
      const attempts: Plan[] = []
      const apply = (p: Plan) => {
        attempts.push(p)
        return applyPlan(p, kernel)
      }
      // Never race udevd on a device it is still naming, or whose naming
      // properties a name is to be found from (udevWait).
      const early = udevWait(plan, opts.udevEvent?.ifindex ?? null, {
        plan: (leave, fresh) => planOn(fresh ? (links = kernel.links()) : links, leave),
        touched: (p) => touchedBy(p).concat(found.map((a) => a.link.ifindex)),
        apply,
        stale,
      })
      plan = early.plan
      clock.mark('udev wait')
      let { names, settingErrors } = apply(plan)
      const again = () => {
        plan = planOn((links = kernel.links()), early.leave)
        ;({ names, settingErrors } = apply(plan))
      }
      if (names.failed?.errno === 'EBUSY' && kernel.renameWhileUp && names.failed.undoErrors.length === 0) {
        // This kernel renames only devices that are down (before 6.2; some
        // distributions backported the change): plan again that way.
        kernel.renameWhileUp = false
        again()
      }
      // A name taken between the plan and the rename (udevd naming a NIC
      // that came back meanwhile, its altname on the wanted name), or a NIC
      // that left again (a new pod took it): every failed group was undone
      // cleanly, so read the facts and plan again.
      for (let n = 0; n < 2 && mayPlanAgain(failuresOf(names), links, kernel); n++) {
        log.debug(`${names.failed!.message}: the device changed after the plan; planning again`, { ifindex: names.failed!.step.ifindex, cause: names.failed!.message })
        again()
      }
      plan = carriedOut(attempts)
      clock.mark('apply')
      // Read back: only what the kernel confirms is recorded as home.
      const after = kernel.refresh(links)
      clock.mark('read back')
      const here = new Set(after.map((l) => l.ifindex))
      // A NIC that left the host while this run worked on it has left: its
      // remove event records it. Not a failure, not a conflict.
      for (const f of failuresOf(names)) {
        if (!here.has(f.step.ifindex) && f.undoErrors.length === 0) continue
        errors.push(f.message, ...f.undoErrors)
        if (f.left.length > 0) {
          errors.push(`left half-done: ${f.left.join('; ')}; the next run (the next udev event, or "nicback restore") finishes it`)
        } else if (f.undone) {
          errors.push('the renames that depended on it were undone; nothing is half-renamed')
        }
      }
      errors.push(...[...early.settingErrors, ...settingErrors].filter((e) => here.has(e.ifindex)).map((e) => e.message))
      plan = { ...plan, decisions: plan.decisions.map((d) => (d.ifindex !== null && (d.outcome === 'restore' || d.settings) && !here.has(d.ifindex) ? leftDuringRun(d) : d)) }
      const { found: back } = matchNics(reg.nics, after)
      let changed = repairs.length > 0
      for (const entry of reg.nics) {
        const link = back.get(entry)
        if (link === undefined) continue
        const d = plan.decisions[reg.nics.indexOf(entry)]!
        const cameHome = link.name === entry.name && (d.outcome === 'restore' || d.settings)
        if (cameHome || (link.name === entry.name && entry.ifindex !== link.ifindex)) {
          if (cameHome) entry.away = null
          entry.ifindex = link.ifindex
          entry.mac = link.mac
          changed = true
        }
      }
      for (const a of found) if (a.found.name === null) log.warn(`${a.link.name} (${identityKey(a.link)}) came back with no record, and nicback has no name for it: ${a.found.why}`, { nic: a.link.name, cause: a.found.why, fix: a.found.fix })
      const value = withSources(summarize(plan, after, reg.nics, opts, [...errors, ...noNames(found, opts.select)], false), found)
      countRun(value.nics, errors.length > 0, opts.returnedAtUsec)
      // A found name is recorded once the NIC is home under it, not before
      // (after the report: decisions and entries are paired by position).
      const home = (e: Entry) => back.get(e)?.name === e.name
      const kept = adopted.filter(home)
      reg.nics = reg.nics.filter((e) => !adopted.includes(e) || home(e))
      if (kept.length > 0) {
        reg.nics.sort((a, b) => a.name.localeCompare(b.name))
        reg.unnamed = reg.unnamed?.filter((u) => !kept.some((e) => sameNic(u, back.get(e)!)))
        changed = true
      }
      clock.mark('report')
      return { changed, value }
    },
    { lockTimeoutSec: opts.lockTimeoutSec },
  )
  clock.mark('record')
  // The kernel dropped their addresses when they left: one decision, on
  // every path, for every NIC this run brought home.
  if (!report.dryRun && opts.notify !== false) for (const n of report.nics) if (n.home && (n.outcome === 'restore' || n.settings)) notifyNetworkManagers(n.name)
  clock.mark('notify')
  report.ms = Math.round(performance.now() - t0)
  // Where the time went (docs/measurements.md accounts for one VF's return
  // with it): the process's start and load come before `t0`.
  if (report.steps.length > 0) log.debug(`the run, step by step: began ${Math.round(t0)} ms into the process; ${clock.text()}`, { phases: clock.steps(), startedMs: Math.round(t0), ms: report.ms })
  return report
}

/** Which devices with no record a run looks for a name for: those that
 *  came back (a kernel fallback name, or seen away at install), or the ones
 *  named by hand. */
function picked(sel: Selection, unnamed: readonly UnnamedNic[]): (l: Link) => boolean {
  return sel.kind === 'names' ? (l) => sel.names.includes(l.name) : (l) => looksReturned(l, unnamed)
}

/** The sources of a name for devices with no record, read once per plan
 *  and only if a device needs them. */
function nameSources() {
  return hostNameSources((file, why) => log.warn(`not reading sriov-cni's cache file ${file}: ${why}`, { path: file, cause: why, fix: "sriov-cni writes its cache as root, mode 0600: check who wrote this one before making it root's" }))
}

/** This attempt's entries for NICs with no record, those of the attempt
 *  before first and in their places when they are for the same NIC and
 *  name: the attempts' decisions are matched by position (carriedOut). */
function stableOrder(before: readonly Entry[], now: readonly Entry[]): Entry[] {
  const same = (a: Entry, b: Entry) => a.name === b.name && sameNic(a, b)
  const kept = before.filter((b) => now.some((n) => same(b, n)))
  return [...kept, ...now.filter((n) => !kept.some((b) => same(b, n)))]
}

/** A device asked for by name that has no record and no name found. */
function noNames(found: readonly Adoption[], sel: Selection): string[] {
  if (sel.kind !== 'names') return []
  return found.flatMap((a) => (a.found.name === null ? [`${a.link.name} has no record, and nicback has no name for it: ${a.found.why}; ${a.found.fix}`] : []))
}

/** Each NIC of a report with where its name came from. */
function withSources(r: RestoreReport, found: readonly Adoption[]): RestoreReport {
  const how = new Map(found.flatMap((a) => (a.found.name === null ? [] : [[a.found.name, a.found]])))
  r.nics = r.nics.map((n) => {
    const f = how.get(n.name)
    return f === undefined || f.name === null ? n : { ...n, source: f.foundBy, reason: `${n.reason}; it had no record: the name is ${f.how}` }
  })
  return r
}

/** The run's plan as carried out over its attempts: a NIC an earlier attempt
 *  brought home (the next one finds it home) keeps that attempt's decision
 *  and steps, so it is recorded as home, logged and counted as restored.
 *  The later attempt finds it home with its settings still to check (its
 *  entry says away until the run ends): those are kept too. */
export function carriedOut(attempts: readonly Plan[]): Plan {
  const last = attempts[attempts.length - 1]!
  const earlier = attempts.slice(0, -1)
  const decisions = last.decisions.map((d, i) => {
    if (d.outcome !== 'home') return d
    const acted = [...earlier].reverse().find((p) => p.decisions[i]?.outcome === 'restore')?.decisions[i]
    return acted === undefined ? d : { ...acted, settings: acted.settings || d.settings }
  })
  const touched = new Set([...last.names, ...last.settings].map((s) => s.ifindex))
  const before = (k: 'names' | 'settings') => earlier.flatMap((p) => p[k]).filter((s) => !touched.has(s.ifindex))
  return { names: [...before('names'), ...last.names], settings: [...before('settings'), ...last.settings], decisions }
}

type Failure = NonNullable<ApplyResult['failed']>

function failuresOf(names: ApplyResult): Failure[] {
  return [...(names.failed ? [names.failed] : []), ...(names.alsoFailed ?? [])]
}

/** Every rename group that failed was undone without a trace, and failed on
 *  a name someone took (EEXIST), or on a device that has left the host or
 *  been renamed by someone else since the plan (`links`: what the plan was
 *  made from; a mover such as LXC renames a NIC it hands back): new facts,
 *  a new plan. */
function mayPlanAgain(failed: readonly Failure[], links: readonly Link[], kernel: Kernel): boolean {
  if (failed.length === 0) return false
  const now = new Map(kernel.refresh(links).map((l) => [l.ifindex, l.name]))
  const planned = new Map(links.map((l) => [l.ifindex, l.name]))
  return failed.every((f) => f.errno !== 'EBUSY' && f.undoErrors.length === 0 && f.left.length === 0 && (f.errno === 'EEXIST' || now.get(f.step.ifindex) !== planned.get(f.step.ifindex)))
}

/** A NIC that left the host while this run brought it home: away, and said so. */
function leftDuringRun(d: Decision): Decision {
  return { ...d, outcome: 'away', reason: 'left the host again while nicback brought it home (a container took it): its departure is recorded; nothing failed', settings: false, leftDuringRun: true }
}

/** How long a run waits for udevd to finish with the devices it would
 *  change (under emulation udevd took seconds for 21 VFs); past that it goes
 *  ahead (udevd stuck on a slow rule must not keep a NIC misnamed). */
const UDEV_WAIT_MS = 10_000
const pause = new Int32Array(new SharedArrayBuffer(4))
const NONE: ReadonlySet<number> = new Set()
/** How long udevd may finish none of a run's devices before the run brings
 *  home those it is done with (under emulation it finishes one every
 *  ~0.1 s in a storm). */
const QUIET_MS = 300
/** The same before anything is read (udevSettles): under emulation udevd
 *  went 0.3 s without finishing any of a storm's last six VFs, its workers
 *  busy with the RUN programs of the others (one systemd-sysctl per VF);
 *  the links read then were stale by the time they were used. */
const SETTLE_QUIET_MS = 1000

const touchedBy = (p: Plan) => [...p.names, ...p.settings].map((s) => s.ifindex)

export interface UdevWaitPorts {
  /** A plan that leaves these devices alone; `fresh`: from the links read again. */
  plan(leave: ReadonlySet<number>, fresh: boolean): Plan
  /** The devices a plan needs udevd done with (those it changes, and those
   *  it reads udev's properties of); its steps' by default. */
  touched?(p: Plan): number[]
  apply(p: Plan): ReturnType<typeof applyPlan>
  /** Devices udevd still named when `plan`'s links were read: once it is
   *  done with them, the plan is made again from links read then. */
  stale?: ReadonlySet<number>
}

/** Before a run reads anything: while udevd still names NICs on a bus (a
 *  storm's VFs coming back), wait until it is done with them or pauses
 *  (SETTLE_QUIET_MS with none finished), starting no process. Returns those
 *  it still has then.
 *  Links read and a plan made while udevd works would be made again once it
 *  is done (udevWait), on the CPUs udevd needs: under emulation that cost a
 *  storm ~0.4 s of udevd's time. Never waits for the device of `ownEvent`
 *  (as udevWait); NICs that come back meanwhile are waited for too. */
export function udevSettles(ownEvent: number | null, capMs = UDEV_WAIT_MS, quietMs = SETTLE_QUIET_MS): ReadonlySet<number> {
  const busy = () => nicsWithUdev().filter((i) => i !== ownEvent)
  let still = busy()
  if (still.length === 0) return NONE
  const t0 = performance.now()
  const waited = new Set(still)
  still = whileUdevWorks(still, t0 + capMs, quietMs, () => {
    const more = busy()
    for (const i of more) waited.add(i)
    return more
  })
  const ms = Math.round(performance.now() - t0)
  log.debug(`waited ${ms} ms for udevd to name NICs (ifindex ${[...waited].join(', ')}) before reading the links${still.length > 0 ? `; it still has ${still.join(', ')}` : ''}`, { ifindex: [...waited], ms })
  return new Set(still)
}

/** Looks at udev's database every 20 ms while udevd works through `still`,
 *  until it is done with all, `deadline` passes, or it pauses (`quietMs`
 *  with none finished); `more`: what to wait for next once those are done.
 *  Returns the devices udevd still has. */
function whileUdevWorks(still: number[], deadline: number, quietMs: number, more: () => number[] = () => []): number[] {
  let progress = performance.now()
  while (still.length > 0 && performance.now() < deadline && performance.now() - progress < quietMs) {
    Atomics.wait(pause, 0, 0, 20)
    const s = stillWithUdev(still)
    if (s.length < still.length) progress = performance.now()
    still = s.length > 0 ? s : more()
  }
  return still
}

/** Waits for udevd to finish with the devices `plan` touches, and brings
 *  home those it is done with whenever udevd pauses (QUIET_MS), not after
 *  the slow one. Returns the plan to apply now, the
 *  setting errors of the renames done while waiting, and the devices left
 *  alone (a plan made again in the run leaves them too). udevd writes a
 *  device's database entry when its rules are done, before RUN programs
 *  start (facts/udevdb.ts), so a device without one is still being named.
 *  Never waits for:
 *  - the device of `ownEvent` (the ifindex of the udev event this process
 *    runs for, as the rule's RUN program): udevd starts no later event of a
 *    device while an earlier one runs ("SEQNUM=... blocked by SEQNUM=..." in
 *    its debug log), so that device's entry cannot come before this process
 *    exits. It is left alone; the run its next event starts brings it home;
 *  - past `capMs`: it goes ahead, with a warning naming what udevd still had. */
export function udevWait(plan: Plan, ownEvent: number | null, ports: UdevWaitPorts, capMs = UDEV_WAIT_MS): { plan: Plan; settingErrors: SettingError[]; leave: ReadonlySet<number> } {
  const touched = ports.touched ?? touchedBy
  const t0 = performance.now()
  const deadline = t0 + capMs
  const waited = new Set<number>()
  const leave = new Set<number>()
  const settingErrors: SettingError[] = []
  let fresh = (ports.stale ?? NONE).size === 0
  for (;;) {
    const busy = stillWithUdev(touched(plan))
    if (ownEvent !== null && busy.includes(ownEvent) && !leave.has(ownEvent)) {
      leave.add(ownEvent)
      log.debug(`udevd holds the next event of ifindex ${ownEvent} until the event this process runs for ends: left to that event's own run`, { ifindex: ownEvent })
      plan = ports.plan(leave, false)
      continue
    }
    if (busy.length === 0) {
      // done with them since the links were read: their names and altnames
      // are udevd's now, not what the plan saw (a rename would meet EEXIST)
      if (!fresh && touched(plan).some((i) => ports.stale!.has(i))) {
        fresh = true
        plan = ports.plan(leave, true)
        continue
      }
      break
    }
    if (performance.now() >= deadline) {
      log.warn(`udevd still has ifindex ${busy.join(', ')} after ${capMs} ms: going ahead`, {
        ifindex: busy,
        ms: capMs,
        cause: 'udevd did not finish with these devices in time',
        fix: 'see "udevadm monitor" and udevd\'s log for the rule that is slow',
      })
      break
    }
    for (const i of busy) waited.add(i)
    // Wait while udevd works through them, until it is done with all or
    // pauses (QUIET_MS with none finished: a slow rule, NICs still coming
    // back). Renaming while udevd works only adds to its work (a `move`
    // event per rename, an `ip` per look) on the CPUs it needs.
    const still = whileUdevWorks(busy, deadline, QUIET_MS)
    // A pause: those udevd is done with go home now, not after the slow one.
    if (still.length > 0) {
      const ready = ports.plan(new Set([...leave, ...still]), false)
      const now = touched(ready)
      // A failed rename is planned again below, from the links as they are.
      if (now.length > 0 && !now.some((i) => still.includes(i))) settingErrors.push(...ports.apply(ready).settingErrors)
    }
    plan = ports.plan(leave, true)
    fresh = true
  }
  if (waited.size > 0) {
    const ms = Math.round(performance.now() - t0)
    log.debug(`waited ${ms} ms for udevd to finish with ifindex ${[...waited].join(', ')}`, { ifindex: [...waited], ms })
  }
  return { plan, settingErrors, leave }
}

function summarize(plan: Plan, links: Link[], entries: Entry[], opts: RestoreOptions, errors: string[], dryRun: boolean): RestoreReport {
  const { found } = matchNics(entries, links)
  const nics = plan.decisions.map((d, i) => {
    const link = found.get(entries[i]!)
    const home = dryRun ? d.outcome === 'home' : link !== undefined && link.name === d.name
    return { ...d, was: d.now, now: link?.name ?? null, home, source: 'registry' as NameSource }
  })
  const sel = opts.select
  const asked = (n: NicResult) => {
    switch (sel.kind) {
      case 'names':
        return sel.names.includes(n.name) || (n.was !== null && sel.names.includes(n.was))
      case 'all':
        return n.outcome !== 'away'
      case 'returned':
        return n.outcome === 'restore' || n.outcome === 'conflict' || n.outcome === 'ambiguous'
    }
  }
  const missing = sel.kind === 'names' ? sel.names.filter((name) => !nics.some((n) => n.name === name || n.was === name)) : []
  const stillAway = sel.kind === 'names' ? nics.filter((n) => asked(n) && n.outcome === 'away') : []
  const allErrors = [
    ...errors,
    ...missing.map((n) => `${n} is not a recorded NIC (see "nicback status"; record it with "nicback record ${n}")`),
    ...stillAway.map((n) => `${n.name} is not back in this network namespace (${n.reason}): nicback gives it its name when it returns, or use "nicback release ${n.name}"`),
  ]
  const ok = missing.length === 0 && errors.length === 0 && nics.filter(asked).every((n) => (dryRun ? n.outcome === 'home' || n.outcome === 'restore' : n.home))
  return {
    dryRun,
    steps: [...plan.names, ...plan.settings].map((s) => ({ op: s.op, description: describeStep(s) })),
    // Named: the NICs asked for, and any the run changed to free their names.
    nics: sel.kind === 'names' ? nics.filter((n) => asked(n) || n.outcome === 'restore' || n.settings) : nics,
    errors: allErrors,
    ok,
    ms: 0,
  }
}

/** One log line for the steps, one per NIC that was not simply home, and one per error. */
export function logReport(r: RestoreReport): void {
  if (r.steps.length > 0) log.info(`${r.dryRun ? 'would run' : 'ran'} in ${r.ms} ms: ${r.steps.map((s) => s.description).join('; ')}`, { steps: r.steps.map((s) => s.description), ms: r.ms, dryRun: r.dryRun })
  for (const n of r.nics) {
    if (n.leftDuringRun) log.info(`${n.name} (was ${n.was ?? 'away'}) ${n.reason}`, { nic: n.name, was: n.was, cause: n.reason })
    else if (n.outcome === 'restore') log.info(`${r.dryRun ? 'would restore' : n.home ? 'restored' : 'failed to restore'} ${n.name}: ${n.reason}`, { nic: n.name, was: n.was, cause: n.reason, source: n.source })
    else if (n.outcome === 'conflict' || n.outcome === 'ambiguous')
      log.warn(`cannot restore ${n.name} (now ${n.now ?? 'away'}): ${n.reason}`, { nic: n.name, now: n.now, cause: n.reason, fix: 'free the name (rename the device that holds it), then "nicback restore"' })
  }
  for (const e of r.errors) log.error(e, { cause: e })
}

export interface ComeBackOptions {
  /** The container's netns, alive: take them out of it. Null: it is gone. */
  from: Netns | null
  /** How long to wait for the kernel to hand back NICs not found in `from`. */
  timeoutMs: number
  /** Where they went, for messages ("container 0123abcd"). */
  who?: string
  /** The kernel the run changes (apply/kernel.ts); the machine's by default. */
  kernel?: Kernel
}

export interface ComeBackResult {
  /** Taken out of `from` by nicback. */
  pulled: string[]
  /** Every step done, for people: the pull-outs, then the restore's. */
  steps: string[]
  /** Handed back by the kernel (waited for). */
  returned: string[]
  /** Why a NIC is not home: not recorded, not back in time, a failed pull.
   *  `code` 'timeout': it did not come back in time. */
  failures: { name: string; error: string; code?: ErrorCode }[]
  report: RestoreReport | null
}

/** Brings the recorded NICs `names` home, wherever they are now. */
export async function nicsComeBack(names: readonly string[], opts: ComeBackOptions): Promise<ComeBackResult> {
  const result: ComeBackResult = { pulled: [], steps: [], returned: [], failures: [], report: null }
  const entries = loadRegistry().nics
  const kernel = opts.kernel ?? hostKernel()
  const host = kernel.links()
  const waitFor: string[] = []
  const present: string[] = []
  for (const name of names) {
    const entry = entries.find((e) => e.name === name)
    if (entry === undefined) {
      result.failures.push({ name, error: `${name} is not a recorded NIC (see "nicback status")` })
      continue
    }
    if (matchNics([entry], host).found.has(entry)) {
      present.push(name)
      continue
    }
    if (opts.from === null) {
      waitFor.push(name)
      continue
    }
    const held = heldOnHost(name, host)
    if (held !== null) {
      result.failures.push({ name, error: `refusing to take ${name} out of ${opts.from.where}: ${held}` })
      continue
    }
    try {
      pullOut(opts.from, entry, name, [entry.away?.insideName, entry.away?.leftAs], kernel, result.steps)
      result.pulled.push(name)
      present.push(name)
    } catch (err) {
      if (!isMoveError(err)) throw err
      // Not in there: on its way back already (its netns died), wait for it.
      if (err.code === 'not_there') waitFor.push(name)
      else result.failures.push({ name, error: err.message })
    }
  }
  if (waitFor.length > 0) {
    const why = (n: string) => {
      const a = entries.find((e) => e.name === n)?.away
      return a ? describeAway(a) : 'not recorded as away'
    }
    log.info(`waiting up to ${opts.timeoutMs / 1000} s for the kernel to hand back ${waitFor.map((n) => `${n} (${why(n)})`).join(', ')}`, { nics: waitFor, timeoutMs: opts.timeoutMs })
    const { back, missing } = await waitForReturn(waitFor, opts.timeoutMs, kernel)
    result.returned.push(...back)
    present.push(...back)
    for (const name of missing) {
      result.failures.push({
        name,
        code: 'timeout',
        error: `${name} did not come back${opts.who ? ` from ${opts.who}` : ''} within ${opts.timeoutMs / 1000} s: something still holds its network namespace (a process, a bind mount under /run/netns or /run/docker/netns; "nicback status" names them), or it is a virtual device, which dies with it`,
      })
    }
  }
  if (present.length > 0) {
    result.report = nicReturns({ select: { kind: 'names', names: present }, kernel })
    result.steps.push(...result.report.steps.map((s) => s.description))
  }
  return result
}
