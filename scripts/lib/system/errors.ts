// nicback's one error type: data a caller branches on, and the sentence a
// person reads. The catcher checks `code`, never the text; the text is built
// from the data (cause, then the fix when there is one), so the two never
// disagree. A logged error gives its fields through toFields (system/log.ts).

/** What went wrong, as a caller branches on it. */
export type ErrorCode =
  /** The command line is wrong: exit 2 with a hint. */
  | 'usage'
  /** nicback will not do it (a safety rule, or a target that is not one). */
  | 'refused'
  /** The kernel's ENODEV/ENOENT, EBUSY, EEXIST of a link change (for the
   *  engine in apply/), and a wait that ran out (a NIC that did not come back). */
  | 'not_found'
  | 'busy'
  | 'exists'
  | 'timeout'
  /** Anything else that failed (the lead's executor uses it too). */
  | 'failed'
  | 'state_dir'
  | 'registry'
  | 'manifest'
  /** A command nicback ran exited non-zero (stderr and status say how). */
  | 'command_failed'
  /** A network namespace could not be opened. */
  | 'netns'
  /** A path that opens but is no network namespace file. */
  | 'not_netns'
  | 'oci'
  | 'daemon_json'
  | 'json_edit'
  | 'shim'
  /** The container engine's answer about a container is unusable. */
  | 'container'
  /** Every engine installed says it has no such container. */
  | 'container_not_found'
  | 'bounded_read'
  | 'sysfs_mismatch'
  /** The lock is held by another nicback, and waiting is over. */
  | 'lock_held'
  /** The lock cannot be opened or taken at all. */
  | 'lock_failed'
  /** A change to a link failed (apply/journal.ts: which, and the kernel's words). */
  | 'step_failed'
  /** A move between namespaces refused: nothing was touched. */
  | 'move_refused'
  /** A move between namespaces failed: undone as far as the message says. */
  | 'move_failed'
  /** The NIC is not in the namespace asked about (on its way back, or never there). */
  | 'not_there'

export interface ErrorData {
  code: ErrorCode
  /** What nicback was doing: 'restore', 'release', 'read state dir'... */
  verb: string
  /** The NIC it is about, when it is about one. */
  nic?: string
  /** Why: the sentence a person reads (the whole message when no fix). */
  cause: string
  /** What an admin does about it; the message ends with it after "; ". */
  fix?: string
  /** The command that failed (command_failed). */
  argv?: string[]
  /** Its stderr (command_failed). */
  stderr?: string
  /** Its exit status (command_failed). */
  status?: number | null
  /** A refusal --force overrides (move_refused). */
  overridable?: boolean
}

/** Pure: the sentence of an error's data. */
export function errorMessage(d: Pick<ErrorData, 'cause' | 'fix'>): string {
  return d.fix === undefined ? d.cause : `${d.cause}; ${d.fix}`
}

export class NicbackError extends Error {
  readonly code: ErrorCode
  readonly verb: string
  readonly nic?: string
  override readonly cause: string
  readonly fix?: string
  readonly argv?: string[]
  readonly stderr?: string
  readonly status?: number | null
  readonly overridable?: boolean

  constructor(data: ErrorData) {
    super(errorMessage(data))
    this.name = 'NicbackError'
    this.code = data.code
    this.verb = data.verb
    this.cause = data.cause
    this.nic = data.nic
    this.fix = data.fix
    this.argv = data.argv
    this.stderr = data.stderr
    this.status = data.status
    this.overridable = data.overridable
  }
}

/** Shorthand: new NicbackError({ code, verb, cause, ...more }). */
export function nicbackError(code: ErrorCode, verb: string, cause: string, more: Omit<ErrorData, 'code' | 'verb' | 'cause'> = {}): NicbackError {
  return new NicbackError({ code, verb, cause, ...more })
}

/** Pure: `err` is a NicbackError, with one of `codes` when any are given. */
export function isNicbackError(err: unknown, ...codes: ErrorCode[]): err is NicbackError {
  return err instanceof NicbackError && (codes.length === 0 || codes.includes(err.code))
}

/** Pure: the text of anything thrown. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** The fields of a log line an error gives (a log.Fields). */
export type ErrorFields = { code?: ErrorCode; verb?: string; nic?: string; cause: string; fix?: string; status?: number | null }

/** Pure: the structured fields of anything thrown, for a log line: a
 *  NicbackError's data, or the text of another error as its cause. */
export function toFields(err: unknown): ErrorFields {
  if (!(err instanceof NicbackError)) return { cause: errorText(err) }
  const f: ErrorFields = { code: err.code, verb: err.verb, cause: err.cause }
  if (err.nic !== undefined) f.nic = err.nic
  if (err.fix !== undefined) f.fix = err.fix
  if (err.status !== undefined) f.status = err.status
  return f
}
