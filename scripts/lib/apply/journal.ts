// The one undo mechanism. Every change to a link is a typed Step
// (plan/planner.ts), run on a Kernel through a Journal, which keeps each done
// step's typed undo. A change that goes with them and is no link step (the
// registry's record of a departure, a NIC taken back out through the scratch
// netns) is journaled with its own undo. A rollback undoes everything,
// newest first, and says exactly what could not be undone.
import type { Step } from '../plan/planner.js'
import type { Netns } from '../system/netns.js'
import { describeStep } from '../plan/describe.js'
import { isNicbackError, nicbackError, type NicbackError } from '../system/errors.js'
import { type Kernel, type LineFailure, hostKernel } from './kernel.js'
import { ipArgs } from './ip.js'

/** A step failed: `what` says which, in the words of the journal, and
 *  `why` is the kernel's answer. */
export function stepFailed(what: string, why: string): NicbackError {
  return nicbackError('step_failed', what, `failed to ${what}: ${why}`)
}

/** A failed line of a batch, and the step it ran. */
export type Failure = LineFailure & { step: Step }

type Undo = { what: string } & ({ step: Step; ns: Netns | undefined } | { action: () => void })

/** The step that undoes `s`; null for a move between namespaces, whose undo
 *  is the other moment's (the caller journals it as an action). */
export function undoOf(s: Step): Step | null {
  switch (s.op) {
    case 'altname-del':
      return { op: 'altname-add', ifindex: s.ifindex, dev: s.dev, altname: s.altname }
    case 'altname-add':
      return { op: 'altname-del', ifindex: s.ifindex, dev: s.dev, altname: s.altname }
    case 'down':
      return { op: 'up', ifindex: s.ifindex, dev: s.dev }
    case 'up':
      return { op: 'down', ifindex: s.ifindex, dev: s.dev }
    case 'rename':
      return { op: 'rename', ifindex: s.ifindex, from: s.to, to: s.from, temporary: s.temporary }
    case 'mtu':
      return { op: 'mtu', ifindex: s.ifindex, dev: s.dev, mtu: s.was, was: s.mtu }
    case 'mac':
      return { op: 'mac', ifindex: s.ifindex, dev: s.dev, mac: s.was, was: s.mac }
    case 'netns':
      return null
  }
}

export class Journal {
  /** What was done, in order, for people. */
  readonly done: string[] = []
  private readonly undos: Undo[] = []

  constructor(readonly kernel: Kernel = hostKernel()) {}

  /** Runs `steps` as one batch in `ns` (the host's when absent), stopping at
   *  the first failure. The steps before it are done and journaled; the
   *  failure is returned. `undo` is the undo of a move between namespaces. */
  run(steps: readonly Step[], ns?: Netns, undo?: () => void): Failure | null {
    const r = this.kernel.batch(steps.map(ipArgs), false, ns)
    const at = r.ok ? steps.length : r.failed[0]!.line - 1
    for (const s of steps.slice(0, at)) this.record(s, ns, undo)
    return r.ok ? null : { ...r.failed[0]!, step: steps[at]! }
  }

  /** Runs `steps`, throwing stepFailed at the first failure. */
  must(steps: readonly Step[], ns?: Netns, undo?: () => void): void {
    const f = this.run(steps, ns, undo)
    if (f !== null) throw stepFailed(describeStep(f.step), f.text)
  }

  /** Journals a step done in a batch shared with other journals. */
  record(s: Step, ns?: Netns, undo?: () => void): void {
    const what = describeStep(s)
    this.done.push(what)
    const u = undoOf(s)
    if (u !== null) this.undos.push({ what, step: u, ns })
    else if (undo !== undefined) this.undos.push({ what, action: undo })
  }

  /** Does `fn`, a change that is no link step; on success remembers `undo`.
   *  Throws stepFailed. */
  do(what: string, fn: () => void, undo?: () => void): void {
    try {
      fn()
    } catch (err) {
      throw isNicbackError(err, 'step_failed') ? err : stepFailed(what, (err as Error).message.trim())
    }
    this.done.push(what)
    if (undo) this.undos.push({ what, action: undo })
  }

  /** Remembers the undo of a change made outside the journal (the registry
   *  written under its own lock). */
  undoable(what: string, undo: () => void): void {
    this.undos.push({ what, action: undo })
  }

  /** Whether anything would be undone. */
  get dirty(): boolean {
    return this.undos.length > 0
  }

  /** Undoes in reverse, every undo tried even when one fails; returns what
   *  could not be undone (each once). Putting back an altname the device has
   *  again (udevd gives a returned NIC its altnames on its next event, 6.1's
   *  move into devN among them: the kernel answers EEXIST) is an undo done. */
  rollback(): string[] {
    const errors: string[] = []
    const undos = this.undos.splice(0).reverse()
    for (let i = 0; i < undos.length;) {
      const u = undos[i]!
      if ('action' in u) {
        try {
          u.action()
        } catch (err) {
          errors.push(`undo of "${u.what}" failed: ${(err as Error).message.trim()}`)
        }
        i++
        continue
      }
      // Consecutive link undos in one namespace: one batch, every line tried.
      let j = i
      while (j < undos.length && 'step' in undos[j]! && (undos[j] as { ns: Netns | undefined }).ns === u.ns) j++
      const run = undos.slice(i, j) as (Undo & { step: Step; ns: Netns | undefined })[]
      const r = this.kernel.batch(
        run.map((x) => ipArgs(x.step)),
        true,
        u.ns,
      )
      for (const f of r.failed) {
        const x = run[f.line - 1]!
        const backAlready = x.step.op === 'altname-add' && f.errno === 'EEXIST' && u.ns === undefined && this.kernel.altnames(x.step.ifindex).includes(x.step.altname)
        if (!backAlready) errors.push(`undo of "${x.what}" failed: ${f.text}`)
      }
      i = j
    }
    return errors
  }
}

/** Test hook: NICBACK_FAIL_AT=<point> makes that step fail, to prove undo:
 *  the failure's words, or null. */
export function fault(at: string): string | null {
  return process.env.NICBACK_FAIL_AT === at ? `NICBACK_FAIL_AT=${at}: injected failure` : null
}

/** Test hook: NICBACK_STOP_AFTER=k makes a restore die (SIGKILL) after the
 *  first k steps of its batch, as a udev worker killed mid-run would; null
 *  when not set. The next run must converge. */
export function stopAfter(): number | null {
  const k = process.env.NICBACK_STOP_AFTER
  return k !== undefined && /^\d+$/.test(k) ? Number(k) : null
}
