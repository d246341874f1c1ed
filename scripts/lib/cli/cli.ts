// Small shared pieces of the command line: argument parsing with node's own
// parseArgs (no dependency, no start-up cost), usage errors, output. What
// goes to people passes through printable() here, as it is written; JSON
// goes out exact (system/printable.ts).
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { log, setQuiet } from '../system/log.js'
import { jsonText, printable } from '../system/printable.js'

/** Bad input: exit status 2 and the command's usage hint. */
export class UsageError extends Error {}

export interface Command {
  /** One line for `nicback --help`. */
  summary: string
  /** Full text for `nicback CMD --help`. */
  help: string
  main(argv: string[]): Promise<number> | number
}

type Options = NonNullable<ParseArgsConfig['options']>

type Values<O extends Options> = { [K in keyof O]?: O[K]['type'] extends 'string' ? (O[K]['multiple'] extends true ? string[] : string) : boolean }

export interface Parsed<O extends Options> {
  values: Values<O> & { json?: boolean; help?: boolean }
  positionals: string[]
}

/** parseArgs, strict, with --help and --json added; throws UsageError. */
export function parse<O extends Options>(argv: string[], options: O, positionals = true): Parsed<O> {
  try {
    const r = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' }, ...options },
      allowPositionals: positionals,
      strict: true,
    })
    setQuiet((r.values as { json?: boolean }).json === true)
    return r as unknown as Parsed<O>
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''))
  }
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
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n'
}

/** Runs a command the way every entry point does: usage errors exit 2 with a
 *  hint, other errors are logged (naming the NIC and cause) and exit 1. */
export async function runCommand(name: string, cmd: Command, argv: string[]): Promise<number> {
  try {
    return await cmd.main(argv)
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`nicback ${name}: ${printable(err.message)}\nRun "nicback ${name} --help" for usage.\n`)
      return 2
    }
    log.error(err instanceof Error ? err.message : String(err))
    if (process.env.NICBACK_DEBUG && err instanceof Error) process.stderr.write(`${(err.stack ?? '').split('\n').map(printable).join('\n')}\n`)
    return 1
  }
}

/** A number of seconds from the command line or the environment (`what`
 *  names it in the error): 0 < n <= max. Throws UsageError. */
export function parseSeconds(raw: string, what: string, max = 3600): number {
  const sec = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(sec) || sec <= 0 || sec > max) throw new UsageError(`${what} needs a number of seconds between 0 and ${max}, not "${raw}"`)
  return sec
}

/** NICBACK_LOCK_WAIT, or `fallback` seconds when it is unset. */
export function lockWaitFromEnv(fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const wait = env.NICBACK_LOCK_WAIT
  return wait === undefined || wait === '' ? fallback : parseSeconds(wait, 'NICBACK_LOCK_WAIT', 600)
}
