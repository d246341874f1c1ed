// Runs a plan's steps with `ip`, one undoable step at a time. Before each step
// it checks that the device still has the name the plan expects (by ifindex
// in sysfs), so a rename by someone else between planning and now aborts the
// run instead of renaming the wrong device. When the names phase fails, the
// steps already done are undone in reverse: the NICs end as they were, never
// half-renamed, and the next run starts from a state it can plan again.
import { readFileSync } from 'node:fs'
import { CommandError, run } from './exec.js'
import type { Step } from './planner.js'

export interface ApplyResult {
  done: Step[]
  failed?: { step: Step; message: string; undone: boolean; undoErrors: string[] }
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

function ipArgs(s: Step): string[] {
  switch (s.op) {
    case 'altname-del':
      return ['link', 'property', 'del', 'dev', s.dev, 'altname', s.altname]
    case 'down':
      return ['link', 'set', 'dev', s.dev, 'down']
    case 'rename':
      return ['link', 'set', 'dev', s.from, 'name', s.to]
    case 'mtu':
      return ['link', 'set', 'dev', s.dev, 'mtu', String(s.mtu)]
    case 'mac':
      return ['link', 'set', 'dev', s.dev, 'address', s.mac]
    case 'up':
      return ['link', 'set', 'dev', s.dev, 'up']
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
  if (s.op === 'altname-del') return ['link', 'property', 'add', 'dev', s.dev, 'altname', s.altname]
  return ipArgs(undoOf(s))
}

/** The name the step addresses the device by. */
function devName(s: Step): string {
  return s.op === 'rename' ? s.from : s.dev
}

function checkDevice(s: Step): void {
  const name = devName(s)
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

/** ip's own words about what failed, without the batch bookkeeping. */
function cause(stderr: string): string {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Command failed')).join('; ') || 'ip failed'
}

/** Applies the names phase all or nothing: on a failure, the steps done so
 *  far are undone in reverse. */
export function applyNames(steps: readonly Step[], batch: Batch = ipBatch, check = checkDevices): ApplyResult {
  const moved = check(steps)
  if (moved !== null) {
    const step = steps[moved.at]!
    return { done: [], failed: { step, message: `failed to ${describeStep(step)}: ${moved.message}`, undone: false, undoErrors: [] } }
  }
  const r = batch(steps.map(ipArgs), false)
  return r.ok ? { done: [...steps] } : undoBefore(steps, r.failedLines[0]! - 1, r.stderr, batch)
}

/** Renames step `at` failed: undo, in reverse, the ones before it. */
function undoBefore(steps: readonly Step[], at: number, stderr: string, batch: Batch): ApplyResult {
  const step = steps[at]!
  const done = steps.slice(0, at).reverse()
  const undo = batch(done.map(undoArgs), true)
  const undoErrors = undo.ok ? [] : undo.failedLines.map((n) => `undo of "${describeStep(done[n - 1]!)}" failed: ${cause(undo.stderr)}`)
  return { done: [], failed: { step, message: `failed to ${describeStep(step)}: ${cause(stderr)}`, undone: done.length > 0, undoErrors } }
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
    errors.push(`failed to ${describeStep(rest[at]!)}: ${cause(r.stderr)}`)
    rest = rest.slice(at + 1)
  }
  return errors
}

/** Both phases in one `ip -batch` when all goes well (one process fewer on
 *  the udev path): a failure among the renames is undone as applyNames does,
 *  a failure among the settings is reported and the settings after it run. */
export function applyPlan(plan: { names: readonly Step[]; settings: readonly Step[] }, batch: Batch = ipBatch, check = checkDevices): { names: ApplyResult; settingErrors: string[] } {
  const settingErrors: string[] = []
  let settings = [...plan.settings]
  // Settings of devices the renames do not touch are checked up front too;
  // one that fails its check is reported and dropped, the renames go on.
  for (let moved = check([...plan.names, ...settings]); moved !== null && moved.at >= plan.names.length; moved = check([...plan.names, ...settings])) {
    const step = settings[moved.at - plan.names.length]!
    settingErrors.push(`failed to ${describeStep(step)}: ${moved.message}`)
    settings = settings.filter((s) => s !== step)
  }
  const all = [...plan.names, ...settings]
  const r = batch(all.map(ipArgs), false)
  if (r.ok) return { names: { done: [...plan.names] }, settingErrors }
  const at = r.failedLines[0]! - 1
  if (at < plan.names.length) return { names: undoBefore(plan.names, at, r.stderr, batch), settingErrors }
  const failed = all[at]!
  settingErrors.push(`failed to ${describeStep(failed)}: ${cause(r.stderr)}`)
  settingErrors.push(...applySettings(all.slice(at + 1), batch, () => {}))
  return { names: { done: [...plan.names] }, settingErrors }
}
