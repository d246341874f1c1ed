// Runs a plan's steps on the kernel (apply/kernel.ts) in the host's netns.
// Before the batch it checks that every device still has the name the plan
// expects (by ifindex in sysfs), so a rename by someone else between planning
// and now aborts the run instead of renaming the wrong device. A device whose
// name ip cannot be given as a word is addressed as "if<ifindex>" (apply/
// ip.ts), checked first to be no other device's name. Renames fall into
// independent groups (a chain or cycle of NICs waiting on each other's
// names), each with its own Journal: a failure rolls back its own group, and
// if the undo itself fails, the result says exactly which device is left
// under which name (the next run finishes the job: a temporary name is always
// one it recognises). A rename the kernel refuses because the device itself
// holds the name as an altname, given after the plan, drops it and goes on
// (LATE_ALTNAME_TRIES). Settings (MAC, MTU, up) run each on its own.
import { displayName } from '../facts/links.js'
import { describeStep } from '../plan/describe.js'
import type { Step } from '../plan/planner.js'
import { address, devName, ipArgs } from './ip.js'
import { type Failure, Journal, stopAfter } from './journal.js'
import { type Errno, type Kernel, hostKernel } from './kernel.js'

export interface ApplyResult {
  done: Step[]
  failed?: {
    step: Step
    message: string
    /** What the kernel answered (the checks before the batch: ENODEV). */
    errno: Errno
    /** Steps before the failure were undone (false: there were none). */
    undone: boolean
    undoErrors: string[]
    /** After a failed undo: "ens3 (ifindex 3) is left as nbtmp3", one per device not back where it started. */
    left: string[]
  }
  /** Failures of other, independent groups of renames. */
  alsoFailed?: NonNullable<ApplyResult['failed']>[]
}

function checkDevice(s: Step, names: ReadonlyMap<number, string>): string | null {
  const name = devName(s)
  const now = names.get(s.ifindex)
  if (address(name, s.ifindex) !== name) {
    // Addressed by ifindex: no device may be called "if<ifindex>".
    if (now === undefined || now !== name) return `${name} (ifindex ${s.ifindex}) is gone or renamed: something else renamed or moved it while nicback was planning`
    if ([...names.values()].includes(`if${s.ifindex}`)) return `${name} (ifindex ${s.ifindex}) cannot be addressed: its name is not a plain word and a device is named "if${s.ifindex}"; rename it by hand`
    return null
  }
  if (now === name) return null
  const holder = [...names].find(([, n]) => n === name)
  if (holder === undefined) return `"${name}" (ifindex ${s.ifindex}) is gone: something else renamed or moved it while nicback was planning`
  return `"${name}" is now ifindex ${holder[0]}, not ${s.ifindex}: something else renamed devices while nicback was planning`
}

/** Checks, before a batch, that every device is where the plan starts it:
 *  the first step that names a device must find it under that name. */
export function checkDevices(steps: readonly Step[], names: ReadonlyMap<number, string>): { at: number; message: string } | null {
  const seen = new Set<number>()
  for (const [i, s] of steps.entries()) {
    if (seen.has(s.ifindex)) continue
    seen.add(s.ifindex)
    const wrong = checkDevice(s, names)
    if (wrong !== null) return { at: i, message: wrong }
  }
  return null
}

/** How often one rename may find its name come back as an altname of its
 *  own device. udevd gives a NIC its altnames again on every `move` event:
 *  on 6.1 a NIC back from a dead netns is named after its `add`, and its
 *  `move` follows once the `add` is done, so the altname may arrive after
 *  the plan; the renames before it in this run raise `move` events too. Each
 *  event gives it once, so a few tries are enough; past them the group is
 *  rolled back and the run plans again. */
export const LATE_ALTNAME_TRIES = 3

/** One line per device a failed group touched that is not back under the
 *  name it started with. */
function leftovers(steps: readonly Step[], kernel: Kernel): string[] {
  const now = new Map([...kernel.names()].map(([i, b]) => [i, displayName(b)]))
  const first = new Map<number, string>()
  for (const s of steps) if (!first.has(s.ifindex)) first.set(s.ifindex, devName(s))
  const out: string[] = []
  for (const [ifindex, was] of first) {
    const is = now.get(ifindex)
    if (is !== was) out.push(is === undefined ? `${was} (ifindex ${ifindex}) is no longer in this network namespace` : `${was} (ifindex ${ifindex}) is left as ${is}`)
  }
  return out
}

/** The one way a MAC is set, on the host or in a namespace nicback holds:
 *  some drivers refuse a new MAC while the NIC is up (EBUSY), then it is set
 *  down, MAC, up. Returns the failure, or null. */
export function setMac(journal: Journal, s: Extract<Step, { op: 'mac' }>, ns?: Parameters<Journal['run']>[1]): Failure | null {
  const f = journal.run([s], ns)
  return f !== null && f.errno === 'EBUSY' ? macWhileDown(journal, s, ns, f) : f
}

function macWhileDown(journal: Journal, s: Extract<Step, { op: 'mac' }>, ns: Parameters<Journal['run']>[1], busy: Failure): Failure | null {
  const dev = { ifindex: s.ifindex, dev: s.dev }
  const f = journal.run([{ op: 'down', ...dev }, s, { op: 'up', ...dev }], ns)
  return f === null ? null : { ...busy, text: `${busy.text}; set down: ${f.text}` }
}

/** A MAC, MTU or admin-state step that failed, and on which device. */
export interface SettingError {
  ifindex: number
  message: string
}

/** Renames and settings in one `ip -batch` when all goes well (one process
 *  on the udev path): a failure among the renames rolls back its group's
 *  journal, a failure among the settings is reported and the settings after
 *  it run. */
export function applyPlan(plan: { names: readonly Step[]; settings: readonly Step[] }, kernel: Kernel = hostKernel()): { names: ApplyResult; settingErrors: SettingError[] } {
  const settingErrors: SettingError[] = []
  let settings = [...plan.settings]
  const fail = (step: Step, why: string, errno: Errno, undone = false, undoErrors: string[] = [], left: string[] = []) => ({ step, message: `failed to ${describeStep(step)}: ${why}`, errno, undone, undoErrors, left })
  const groupOf = renameGroups(plan.names)
  const failures: NonNullable<ApplyResult['failed']>[] = []
  const dead = new Set<number>()
  // Every device must be where the plan starts it. A setting whose device
  // is not is reported and dropped; a rename group whose device is not fails
  // whole, before anything runs; the others go on.
  let names = [...plan.names]
  // One read of the devices' names for every check: dropping a step does
  // not change where the others are.
  const now = new Map([...kernel.names()].map(([i, b]) => [i, displayName(b)]))
  for (let moved = checkDevices([...names, ...settings], now); moved !== null; moved = checkDevices([...names, ...settings], now)) {
    if (moved.at >= names.length) {
      const step = settings[moved.at - names.length]!
      settingErrors.push({ ifindex: step.ifindex, message: `failed to ${describeStep(step)}: ${moved.message}` })
      settings = settings.filter((s) => s !== step)
    } else {
      const step = names[moved.at]!
      failures.push(fail(step, moved.message, 'ENODEV'))
      dead.add(groupOf(step))
      names = names.filter((s) => !dead.has(groupOf(s)))
      settings = settings.filter((s) => !dead.has(groupOf(s)))
    }
  }
  const all = [...names, ...settings]
  const k = stopAfter()
  if (k !== null && k < all.length) {
    kernel.batch(all.slice(0, k).map(ipArgs), false)
    process.kill(process.pid, 'SIGKILL')
  }
  const journals = new Map<number, Journal>()
  const journalOf = (s: Step) => journals.get(groupOf(s)) ?? journals.set(groupOf(s), new Journal(kernel)).get(groupOf(s))!
  const isName = new Set<Step>(names)
  const done: Step[] = []
  const lateAltnames = new Map<Step, number>()
  let queue = all
  while (queue.length > 0) {
    const r = kernel.batch(queue.map(ipArgs), false)
    const at = r.ok ? queue.length : r.failed[0]!.line - 1
    for (const s of queue.slice(0, at)) {
      if (!isName.has(s)) continue
      done.push(s)
      journalOf(s).record(s)
    }
    if (r.ok) break
    const failed = queue[at]!
    const { errno, text } = r.failed[0]!
    const tries = lateAltnames.get(failed) ?? 0
    if (failed.op === 'rename' && errno === 'EEXIST' && tries < LATE_ALTNAME_TRIES && kernel.altnames(failed.ifindex).includes(failed.to)) {
      // Its own altname, not another device's name: drop it (journaled with
      // the group, so an undo puts it back) and go on from this rename.
      const drop: Step = { op: 'altname-del', ifindex: failed.ifindex, dev: failed.from, altname: failed.to }
      lateAltnames.set(failed, tries + 1)
      isName.add(drop)
      queue = [drop, ...queue.slice(at)]
      continue
    }
    if (isName.has(failed)) {
      const g = groupOf(failed)
      const mine = done.filter((s) => groupOf(s) === g)
      const journal = journalOf(failed)
      const undone = journal.dirty
      const undoErrors = journal.rollback()
      failures.push(fail(failed, text, errno, undone, undoErrors, undoErrors.length === 0 ? [] : leftovers([...mine, failed], kernel)))
      for (const s of mine) done.splice(done.indexOf(s), 1)
      dead.add(g)
    } else {
      const f = failed.op === 'mac' && errno === 'EBUSY' ? macWhileDown(new Journal(kernel), failed, undefined, { ...r.failed[0]!, step: failed }) : { text }
      if (f !== null) settingErrors.push({ ifindex: failed.ifindex, message: `failed to ${describeStep(failed)}: ${f.text}` })
    }
    queue = queue.slice(at + 1).filter((s) => !dead.has(groupOf(s)))
  }
  const result: ApplyResult = { done }
  if (failures.length > 0) result.failed = failures[0]!
  if (failures.length > 1) result.alsoFailed = failures.slice(1)
  return { names: result, settingErrors }
}

/** Pure: which group each step's device belongs to. Two devices are in one
 *  group when one is renamed to a name the other leaves (or whose altname
 *  the other drops): they depend on each other. A device no rename touches
 *  is a group of its own. */
export function renameGroups(names: readonly Step[]): (s: Step) => number {
  const parent = new Map<number, number>()
  const find = (i: number): number => {
    let p = parent.get(i) ?? i
    while (p !== (parent.get(p) ?? p)) p = parent.get(p)!
    parent.set(i, p)
    return p
  }
  const union = (a: number, b: number) => parent.set(find(a), find(b))
  const vacated = new Map<string, number>()
  const dropped = new Map<string, number>()
  for (const s of names) {
    if (s.op === 'altname-del') dropped.set(s.altname, s.ifindex)
    if (s.op !== 'rename') continue
    const v = vacated.get(s.to)
    if (v !== undefined) union(s.ifindex, v)
    const d = dropped.get(s.to)
    if (d !== undefined) union(s.ifindex, d)
    vacated.set(s.from, s.ifindex)
  }
  return (s) => find(s.ifindex)
}
