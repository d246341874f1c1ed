// The one undo mechanism: every step that changes the system is done through
// a Journal, which remembers how to undo it. A failure rolls back what was
// done, newest first, and says exactly what could not be undone.

/** A step failed; `what` says which, in the words of the journal. */
export class StepFailed extends Error {
  constructor(
    readonly what: string,
    override readonly cause: Error,
  ) {
    super(`failed to ${what}: ${cause.message.trim()}`)
  }
}

export class Journal {
  /** What was done, in order, for people. */
  readonly done: string[] = []
  private readonly undos: { what: string; undo: () => void }[] = []

  /** Does `fn`; on success remembers `undo`. Throws StepFailed. */
  do(what: string, fn: () => void, undo?: () => void): void {
    try {
      fn()
    } catch (err) {
      throw err instanceof StepFailed ? err : new StepFailed(what, err as Error)
    }
    this.done.push(what)
    if (undo) this.undos.push({ what, undo })
  }

  /** Remembers the undo of something done outside do(). */
  undoable(what: string, undo: () => void): void {
    this.undos.push({ what, undo })
  }

  /** Whether anything would be undone. */
  get dirty(): boolean {
    return this.undos.length > 0
  }

  /** Undoes in reverse; returns what could not be undone (each once). */
  rollback(): string[] {
    const errors: string[] = []
    for (const u of this.undos.reverse()) {
      try {
        u.undo()
      } catch (err) {
        errors.push(`undo of "${u.what}" failed: ${(err as Error).message.trim()}`)
      }
    }
    this.undos.length = 0
    return errors
  }
}

/** Test hook: NICBACK_FAIL_AT=<point> makes that step fail, to prove undo. */
export function fault(at: string): void {
  if (process.env.NICBACK_FAIL_AT === at) throw new Error(`NICBACK_FAIL_AT=${at}: injected failure`)
}

/** Test hook: NICBACK_STOP_AFTER=k makes a restore die (SIGKILL) after the
 *  first k steps of its batch, as a udev worker killed mid-run would; null
 *  when not set. The next run must converge. */
export function stopAfter(): number | null {
  const k = process.env.NICBACK_STOP_AFTER
  return k !== undefined && /^\d+$/.test(k) ? Number(k) : null
}
