// Runs a plan's steps with `ip`, one undoable step at a time. Before each step
// it checks that the device still has the name the plan expects (by ifindex
// in sysfs), so a rename by someone else between planning and now aborts the
// run instead of renaming the wrong device. When the names phase fails, the
// steps already done are undone in reverse: the NICs end as they were, never
// half-renamed, and the next run starts from a state it can plan again.
import { readFileSync } from 'node:fs'
import { run } from './exec.js'
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

export type Runner = (args: string[]) => void
const ip: Runner = (args) => void run('ip', args)

/** Applies the names phase all or nothing: on a failure, the steps done so
 *  far are undone in reverse. */
export function applyNames(steps: readonly Step[], runner: Runner = ip): ApplyResult {
  const done: Step[] = []
  for (const step of steps) {
    try {
      checkDevice(step)
      runner(ipArgs(step))
      done.push(step)
    } catch (err) {
      const message = `failed to ${describeStep(step)}: ${(err as Error).message}`
      const undoErrors: string[] = []
      for (const prev of [...done].reverse()) {
        try {
          runner(undoArgs(prev))
        } catch (e) {
          undoErrors.push(`undo of "${describeStep(prev)}" failed: ${(e as Error).message}`)
        }
      }
      return { done: [], failed: { step, message, undone: done.length > 0, undoErrors } }
    }
  }
  return { done }
}

/** Applies MTU / admin-state steps each on its own; returns the errors. A NIC
 *  whose MTU cannot be set keeps its restored name. */
export function applySettings(steps: readonly Step[], runner: Runner = ip): string[] {
  const errors: string[] = []
  for (const step of steps) {
    try {
      checkDevice(step)
      runner(ipArgs(step))
    } catch (err) {
      errors.push(`failed to ${describeStep(step)}: ${(err as Error).message}`)
    }
  }
  return errors
}
