// Small shared pieces of the command line: argument parsing with node's own
// parseArgs (no dependency, no start-up cost), usage errors, output. What
// goes to people passes through printable() here, as it is written; JSON
// goes out exact (system/printable.ts).
import { join } from 'node:path'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { IFNAME_RULE, isValidIfname } from '../facts/names.js'
import { log, setQuiet } from '../system/log.js'
import { distDir, nodeBin } from '../system/paths.js'
import { jsonText, printable } from '../system/printable.js'
import { didYouMean } from './suggest.js'

/** An option or argument that names a network interface is checked as the
 *  kernel checks it (facts/names.ts). */
export { IFNAME_RULE, isValidIfname }

/** The command line that runs this nicback again (the demo runs it). */
export function selfArgv(): string[] {
  return [nodeBin, join(distDir(), 'nicback.mjs')]
}
import { errorText, isNicbackError, nicbackError, toFields } from '../system/errors.js'

export type Options = NonNullable<ParseArgsConfig['options']>

export interface Command {
  /** One line for `nicback --help`. */
  summary: string
  /** Full text for `nicback CMD --help`. */
  help: string
  /** Its options, as parseArgs takes them: the one list that parse(), the
   *  "did you mean" of a mistyped option and the shell completion read
   *  (completion.ts). --help is every command's and is not listed; --json
   *  only where the command prints JSON (a flag that does nothing is
   *  refused, not accepted). */
  options: Options
  /** Its positional arguments: NIC names, one of a few words, or none
   *  (left out). */
  args?: 'iface' | readonly string[]
  /** The values an option may have, when they are few (for completion). */
  choices?: Readonly<Record<string, readonly string[]>>
  /** Why it must run as root (shown, in one line, to anyone else before
   *  anything runs), or null when it need not; a function of its options
   *  when that depends on them. Left out: it must, to change NICs or
   *  nicback's registry. */
  root?: string | null | ((values: Record<string, unknown>) => string | null)
  main(argv: string[]): Promise<number> | number
}

type Values<O extends Options> = { [K in keyof O]?: O[K]['type'] extends 'string' ? (O[K]['multiple'] extends true ? string[] : string) : boolean }

export interface Parsed<O extends Options> {
  values: Values<O> & { help?: boolean }
  positionals: string[]
}

/** parseArgs, strict, with --help added (and only that: a command that
 *  prints JSON lists json among its options); throws UsageError, with the
 *  nearest option for one it does not know. */
export function parse<O extends Options>(argv: string[], options: O, positionals = true): Parsed<O> {
  const all = { help: { type: 'boolean', short: 'h' }, ...options } satisfies Options
  try {
    const r = parseArgs({ args: argv, options: all, allowPositionals: positionals, strict: true })
    setQuiet((r.values as { json?: boolean }).json === true)
    return r as unknown as Parsed<O>
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '')
    const unknown = (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /^Unknown option '--([^'=]+)/.exec(message) : null
    throw nicbackError('usage', 'parse the command line', unknown ? `${message}${didYouMean(unknown[1]!, Object.keys(all), '--')}` : message)
  }
}

/** Why `cmd` must run as root with these options, or null (Command.root). */
export function rootReason(cmd: Pick<Command, 'root'>, values: Record<string, unknown>): string | null {
  if (cmd.root === undefined) return "it changes NICs or nicback's registry"
  return typeof cmd.root === 'function' ? cmd.root(values) : cmd.root
}

/** Whether to colour text for `stream`: only a terminal, never with
 *  NO_COLOR set (no-color.org) or TERM=dumb. */
export function useColor(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb'
}

/** `s` in bold when `color`, else as it is. */
export function bold(s: string, color: boolean): string {
  return color ? `\x1b[1m${s}\x1b[0m` : s
}

export function printJson(value: unknown): void {
  process.stdout.write(`${jsonText(value, 2)}\n`)
}

/** Lines for people on stdout, each one escaped: build every line whole,
 *  since a line break inside one is shown as \x0a. */
export function say(...lines: string[]): void {
  process.stdout.write(lines.map((l) => `${printable(l)}\n`).join(''))
}

/** Left-aligned columns, for people (every cell escaped, then padded); scripts use --json. */
export function table(cells: string[][]): string {
  const rows = cells.map((r) => r.map(printable))
  // reduce, not Math.max(...rows): a spread of 200000 rows overflows the stack.
  const widths = rows[0]!.map((_, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? '').length), 0))
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  )
}

/** Runs a command the way every entry point does: its options are checked
 *  and, if it needs root, who runs it, before anything is done; usage errors
 *  exit 2 with a hint, not being root exits 1 in one line saying so, other
 *  errors are logged (naming the NIC and cause) and exit 1. */
export async function runCommand(name: string, cmd: Command, argv: string[], euid = process.geteuid?.() ?? 0): Promise<number> {
  try {
    const { values } = parse(argv, cmd.options, cmd.args !== undefined)
    const why = rootReason(cmd, values)
    if (why !== null && euid !== 0) {
      process.stderr.write(`nicback ${name}: must run as root: ${why} (running as uid ${euid}); try "sudo nicback ${name}"\n`)
      return 1
    }
    return await cmd.main(argv)
  } catch (err) {
    // Bad input (code 'usage'): exit status 2 and the command's usage hint.
    if (isNicbackError(err, 'usage')) {
      process.stderr.write(`nicback ${name}: ${printable(err.message)}\nRun "nicback ${name} --help" for usage.\n`)
      return 2
    }
    log.error(errorText(err), toFields(err))
    if (process.env.NICBACK_DEBUG && err instanceof Error) process.stderr.write(`${(err.stack ?? '').split('\n').map(printable).join('\n')}\n`)
    return 1
  }
}

/** A number of seconds from the command line or the environment (`what`
 *  names it in the error): 0 < n <= max. Throws a NicbackError 'usage'. */
export function parseSeconds(raw: string, what: string, max = 3600): number {
  const sec = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(sec) || sec <= 0 || sec > max) throw nicbackError('usage', 'parse the command line', `${what} needs a number of seconds between 0 and ${max}, not "${raw}"`)
  return sec
}

/** NICBACK_LOCK_WAIT, or `fallback` seconds when it is unset. */
export function lockWaitFromEnv(fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const wait = env.NICBACK_LOCK_WAIT
  return wait === undefined || wait === '' ? fallback : parseSeconds(wait, 'NICBACK_LOCK_WAIT', 600)
}
