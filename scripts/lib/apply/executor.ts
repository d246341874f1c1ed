// Runs a plan's steps with `ip` in the host's netns. Before the batch it
// checks that every device still has the name the plan expects (by ifindex
// in sysfs), so a rename by someone else between planning and now aborts the
// run instead of renaming the wrong device. A device whose name ip cannot be
// given as a word (not UTF-8, or bytes `ip -batch` would split) is addressed
// as "if<ifindex>", which ip resolves to that ifindex when no device has that
// name (checked first). When the names phase fails, the steps already done
// are undone in reverse; if the undo itself fails, the result says exactly
// which device is left under which name (the next run finishes the job: a
// temporary name is always one it recognises).
import { readFileSync } from 'node:fs'
import { altnamesOf, displayName, sysfsNames } from '../facts/links.js'
import { isValidIfname } from '../facts/names.js'
import { CommandError, run } from '../system/exec.js'
import type { Step } from '../plan/planner.js'
import { stopAfter } from './journal.js'

export interface ApplyResult {
  done: Step[]
  failed?: {
    step: Step
    message: string
    /** Steps before the failure were undone (false: there were none). */
    undone: boolean
    undoErrors: string[]
    /** After a failed undo: "ens3 (ifindex 3) is left as nbtmp3", one per device not back where it started. */
    left: string[]
    /** The kernel refused to rename a device that is up (EBUSY: before 6.2). */
    busy: boolean
  }
  /** Failures of other, independent groups of renames (applyPlan). */
  alsoFailed?: NonNullable<ApplyResult['failed']>[]
}

export function describeStep(s: Step): string {
  switch (s.op) {
    case 'altname-del':
      return `drop altname "${s.altname}" of "${s.dev}"`
    case 'down':
      return `set "${s.dev}" down to rename it`
    case 'rename':
      return `rename "${s.from}" to "${s.to}"${s.temporary ? ' (temporary, to break a cycle)' : ''}`
    case 'mtu':
      return `set MTU of "${s.dev}" to ${s.mtu} (was ${s.was})`
    case 'mac':
      return `set MAC of "${s.dev}" back to ${s.mac} (was ${s.was})`
    case 'up':
      return `set "${s.dev}" up`
  }
}

/** How ip is told which device: its name, or "if<ifindex>" for a name that
 *  is not a plain word (see the top of this file). */
export function address(name: string, ifindex: number): string {
  return isValidIfname(name) && BATCH_SAFE.test(name) ? name : `if${ifindex}`
}

function ipArgs(s: Step): string[] {
  switch (s.op) {
    case 'altname-del':
      return ['link', 'property', 'del', 'dev', address(s.dev, s.ifindex), 'altname', s.altname]
    case 'down':
      return ['link', 'set', 'dev', address(s.dev, s.ifindex), 'down']
    case 'rename':
      return ['link', 'set', 'dev', address(s.from, s.ifindex), 'name', s.to]
    case 'mtu':
      return ['link', 'set', 'dev', address(s.dev, s.ifindex), 'mtu', String(s.mtu)]
    case 'mac':
      return ['link', 'set', 'dev', address(s.dev, s.ifindex), 'address', s.mac]
    case 'up':
      return ['link', 'set', 'dev', address(s.dev, s.ifindex), 'up']
  }
}

function undoOf(s: Exclude<Step, { op: 'altname-del' }>): Step {
  switch (s.op) {
    case 'down':
      return { op: 'up', ifindex: s.ifindex, dev: s.dev }
    case 'rename':
      return { op: 'rename', ifindex: s.ifindex, from: s.to, to: s.from, temporary: s.temporary }
    case 'mtu':
      return { op: 'mtu', ifindex: s.ifindex, dev: s.dev, mtu: s.was, was: s.mtu }
    case 'mac':
      return { op: 'mac', ifindex: s.ifindex, dev: s.dev, mac: s.was, was: s.mac }
    case 'up':
      return { op: 'down', ifindex: s.ifindex, dev: s.dev }
  }
}

function undoArgs(s: Step): string[] {
  if (s.op === 'altname-del') return ['link', 'property', 'add', 'dev', address(s.dev, s.ifindex), 'altname', s.altname]
  return ipArgs(undoOf(s))
}

/** The name the step addresses the device by. */
function devName(s: Step): string {
  return s.op === 'rename' ? s.from : s.dev
}

function checkDevice(s: Step): void {
  const name = devName(s)
  const addr = address(name, s.ifindex)
  if (addr !== name) {
    // Addressed by ifindex: sysfs must show that ifindex under the expected
    // name, and no device may be called "if<ifindex>".
    const names = sysfsNames()
    const now = names.get(s.ifindex)
    if (now === undefined || displayName(now) !== name) {
      throw new Error(`${name} (ifindex ${s.ifindex}) is gone or renamed: something else renamed or moved it while nicback was planning`)
    }
    if ([...names.values()].some((n) => n.toString('latin1') === addr)) {
      throw new Error(`${name} (ifindex ${s.ifindex}) cannot be addressed: its name is not a plain word and a device is named "${addr}"; rename it by hand`)
    }
    return
  }
  let ifindex: string
  try {
    ifindex = readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim()
  } catch {
    throw new Error(`"${name}" (ifindex ${s.ifindex}) is gone: something else renamed or moved it while nicback was planning`)
  }
  if (Number(ifindex) !== s.ifindex) {
    throw new Error(`"${name}" is now ifindex ${ifindex}, not ${s.ifindex}: something else renamed devices while nicback was planning`)
  }
}

/** Checks, before a batch, that every device is where the plan starts it:
 *  the first step that names a device must find it under that name. */
export function checkDevices(steps: readonly Step[]): { at: number; message: string } | null {
  const seen = new Set<number>()
  for (const [i, s] of steps.entries()) {
    if (seen.has(s.ifindex)) continue
    seen.add(s.ifindex)
    try {
      checkDevice(s)
    } catch (err) {
      return { at: i, message: (err as Error).message }
    }
  }
  return null
}

export interface BatchResult {
  ok: boolean
  /** 1-based lines that failed; without `force` the first failure is the last line run. */
  failedLines: number[]
  stderr: string
}

/** Runs several `ip` commands. */
export type Batch = (cmds: string[][], force: boolean) => BatchResult

/** Tokens `ip -batch` reads back unchanged (it splits on blanks and treats
 *  quotes and # specially); interface names never need more. */
const BATCH_SAFE = /^[^\s"'#\\]+$/

/** One `ip -batch -` process for all commands: under software emulation a
 *  process start costs ~0.4 s, on a server a few ms, and a restore runs up to
 *  a handful of commands. Without -force ip stops at the first failing line
 *  and names it ("Command failed -:N"), which is what the undo needs. */
export const ipBatch: Batch = (cmds, force) => {
  if (cmds.length === 0) return { ok: true, failedLines: [], stderr: '' }
  if (!cmds.every((c) => c.every((a) => BATCH_SAFE.test(a)))) return oneByOne(cmds, force)
  try {
    run('ip', [...(force ? ['-force'] : []), '-batch', '-'], `${cmds.map((c) => c.join(' ')).join('\n')}\n`)
    return { ok: true, failedLines: [], stderr: '' }
  } catch (err) {
    if (!(err instanceof CommandError)) throw err
    const failedLines = [...err.stderr.matchAll(/Command failed -:(\d+)/g)].map((m) => Number(m[1]))
    // No line named: ip did not run at all (missing, killed), so nothing was done.
    return { ok: false, failedLines: failedLines.length > 0 ? failedLines : [1], stderr: err.stderr }
  }
}

function oneByOne(cmds: string[][], force: boolean): BatchResult {
  const failedLines: number[] = []
  let stderr = ''
  for (const [i, c] of cmds.entries()) {
    try {
      run('ip', c)
    } catch (err) {
      failedLines.push(i + 1)
      stderr += `${(err as Error).message}\n`
      if (!force) break
    }
  }
  return { ok: failedLines.length === 0, failedLines, stderr }
}

/** ip's own words about what failed, without the batch bookkeeping. With
 *  `line`, only the words ip printed for that line of the batch (ip prints a
 *  line's error, then "Command failed -:N"). */
function cause(stderr: string, line?: number): string {
  let text = stderr
  if (line !== undefined) {
    const chunks = stderr.split(/^Command failed -:(\d+)\s*$/m)
    // [before1, N1, before2, N2, ...]: the words before "Command failed -:N" are N's.
    for (let i = 1; i < chunks.length; i += 2) if (Number(chunks[i]) === line) text = chunks[i - 1]!
  }
  return text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Command failed')).join('; ') || 'ip failed'
}

const isBusy = (stderr: string) => /Device or resource busy/.test(stderr)

/** Where every device a failed run touched is now, against where it started:
 *  one line per device that is not back under its name. */
export type ReadBack = () => Map<number, string>

function readBackNames(): Map<number, string> {
  return new Map([...sysfsNames()].map(([i, b]) => [i, displayName(b)]))
}

function leftovers(steps: readonly Step[], now: Map<number, string>): string[] {
  const first = new Map<number, string>()
  for (const s of steps) if (!first.has(s.ifindex)) first.set(s.ifindex, devName(s))
  const out: string[] = []
  for (const [ifindex, was] of first) {
    const is = now.get(ifindex)
    if (is !== was) out.push(is === undefined ? `${was} (ifindex ${ifindex}) is no longer in this network namespace` : `${was} (ifindex ${ifindex}) is left as ${is}`)
  }
  return out
}

/** Applies the names phase all or nothing: on a failure, the steps done so
 *  far are undone in reverse. */
export function applyNames(steps: readonly Step[], batch: Batch = ipBatch, check = checkDevices, readBack: ReadBack = readBackNames, altnames: AltnamesOf = altnamesOf): ApplyResult {
  const moved = check(steps)
  if (moved !== null) {
    const step = steps[moved.at]!
    return { done: [], failed: { step, message: `failed to ${describeStep(step)}: ${moved.message}`, undone: false, undoErrors: [], left: [], busy: false } }
  }
  const r = batch(steps.map(ipArgs), false)
  return r.ok ? { done: [...steps] } : undoBefore(steps, r.failedLines[0]! - 1, r.stderr, batch, readBack, altnames)
}

/** The altnames a device has now (the undo of a dropped altname checks it). */
export type AltnamesOf = (ifindex: number) => string[]

/** Renames step `at` failed: undo, in reverse, the ones before it. Putting
 *  back an altname that is back already (udevd gives a returned NIC its
 *  altnames again on its next event, 6.1's move into devN among them: the
 *  kernel answers EEXIST) is an undo done. */
function undoBefore(steps: readonly Step[], at: number, stderr: string, batch: Batch, readBack: ReadBack, altnames: AltnamesOf = altnamesOf): ApplyResult {
  const step = steps[at]!
  const done = steps.slice(0, at).reverse()
  const undo = batch(done.map(undoArgs), true)
  const backAlready = (s: Step) => s.op === 'altname-del' && altnames(s.ifindex).includes(s.altname)
  const undoErrors = undo.ok
    ? []
    : undo.failedLines.filter((n) => !(/File exists/.test(cause(undo.stderr, n)) && backAlready(done[n - 1]!))).map((n) => `undo of "${describeStep(done[n - 1]!)}" failed: ${cause(undo.stderr, n)}`)
  const left = undoErrors.length === 0 ? [] : leftovers(steps.slice(0, at + 1), readBack())
  return { done: [], failed: { step, message: `failed to ${describeStep(step)}: ${cause(stderr)}`, undone: done.length > 0, undoErrors, left, busy: isBusy(stderr) } }
}

/** Some drivers refuse a new MAC while the NIC is up (EBUSY): down, MAC, up. */
function macWhileDown(s: Extract<Step, { op: 'mac' }>, batch: Batch): boolean {
  const dev = { ifindex: s.ifindex, dev: s.dev }
  return batch([ipArgs({ op: 'down', ...dev }), ipArgs(s), ipArgs({ op: 'up', ...dev })], false).ok
}

/** Applies MAC / MTU / admin-state steps, each on its own: a failure is
 *  reported and the rest still run. A NIC whose MTU cannot be set keeps its
 *  restored name. Returns the errors. */
export function applySettings(steps: readonly Step[], batch: Batch = ipBatch, check = checkDevice): string[] {
  const errors: string[] = []
  let rest = steps.filter((s) => {
    try {
      check(s)
      return true
    } catch (err) {
      errors.push(`failed to ${describeStep(s)}: ${(err as Error).message}`)
      return false
    }
  })
  while (rest.length > 0) {
    const r = batch(rest.map(ipArgs), false)
    if (r.ok) break
    const at = r.failedLines[0]! - 1
    const failed = rest[at]!
    if (!(failed.op === 'mac' && isBusy(r.stderr) && macWhileDown(failed, batch))) errors.push(`failed to ${describeStep(failed)}: ${cause(r.stderr)}`)
    rest = rest.slice(at + 1)
  }
  return errors
}

/** A MAC, MTU or admin-state step that failed, and on which device. */
export interface SettingError {
  ifindex: number
  message: string
}

/** Both phases in one `ip -batch` when all goes well (one process fewer on
 *  the udev path): a failure among the renames is undone as applyNames does,
 *  a failure among the settings is reported and the settings after it run. */
export function applyPlan(plan: { names: readonly Step[]; settings: readonly Step[] }, batch: Batch = ipBatch, check = checkDevices, readBack: ReadBack = readBackNames, altnames: AltnamesOf = altnamesOf): { names: ApplyResult; settingErrors: SettingError[] } {
  const settingErrors: SettingError[] = []
  let settings = [...plan.settings]
  // Settings of devices the renames do not touch are checked up front too;
  // one that fails its check is reported and dropped, the renames go on.
  for (let moved = check([...plan.names, ...settings]); moved !== null && moved.at >= plan.names.length; moved = check([...plan.names, ...settings])) {
    const step = settings[moved.at - plan.names.length]!
    settingErrors.push({ ifindex: step.ifindex, message: `failed to ${describeStep(step)}: ${moved.message}` })
    settings = settings.filter((s) => s !== step)
  }
  const all = [...plan.names, ...settings]
  const k = stopAfter()
  if (k !== null && k < all.length) {
    batch(all.slice(0, k).map(ipArgs), false)
    process.kill(process.pid, 'SIGKILL')
  }
  // Renames fall into independent groups (a chain or cycle of NICs waiting
  // on each other's names): a failure undoes its own group only, and the
  // other groups go on, in the same batch when all goes well.
  const groupOf = renameGroups(plan.names)
  const names = new Set<Step>(plan.names)
  const done: Step[] = []
  const failures: NonNullable<ApplyResult['failed']>[] = []
  const dead = new Set<number>()
  let queue = all
  while (queue.length > 0) {
    const r = batch(queue.map(ipArgs), false)
    const at = r.ok ? queue.length : r.failedLines[0]! - 1
    for (const s of queue.slice(0, at)) if (names.has(s)) done.push(s)
    if (r.ok) break
    const failed = queue[at]!
    if (names.has(failed)) {
      const g = groupOf(failed)
      const mine = done.filter((s) => groupOf(s) === g)
      const f = undoBefore([...mine, failed], mine.length, r.stderr, batch, readBack, altnames).failed!
      failures.push(f)
      for (const s of mine) done.splice(done.indexOf(s), 1)
      dead.add(g)
    } else if (!(failed.op === 'mac' && isBusy(r.stderr) && macWhileDown(failed, batch))) {
      settingErrors.push({ ifindex: failed.ifindex, message: `failed to ${describeStep(failed)}: ${cause(r.stderr)}` })
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
