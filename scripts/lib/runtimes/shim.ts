// The Docker way in. dockerd has no hook setting, so `nicback-runtime` stands
// where runc stands (daemon.json "runtimes"): on `create` it adds nicback's
// createRuntime and poststop hooks to the bundle's config.json when the
// container declares NICs, then runs the real runtime with the same
// arguments. Every runc call Docker makes goes through it, so this module uses
// nothing but node's own fs and jsonc-parser (small, no dependencies), for
// editing config.json in place: no schema library, no zx.
import { chmodSync, existsSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { readBounded } from '../system/bounded.js'
import { add as addJson } from '../system/json-edit.js'
import { envValue, NICS_ANNOTATION, NICS_ENV } from './declare.js'
import { isNicbackError, nicbackError } from '../system/errors.js'

/** The most of config.json the shim reads (as the OCI hook: oci.ts). */
export const MAX_CONFIG_BYTES = 16 << 20

/** The command the hooks run: the wrapper `nicback install` writes. */
export const HOOK_BIN = '/usr/local/sbin/nicback'
/** The stages nicback's hooks run at, in config.json's spelling. */
export const HOOK_STAGES = ['createRuntime', 'poststop'] as const

export interface RuntimeArgv {
  /** From `--nicback-runtime PATH` (daemon.json runtimeArgs), else null. */
  runtime: string | null
  /** The argv for the real runtime: the same, minus nicback's own flag. */
  args: string[]
  /** runc's subcommand (create, start, delete...), null if there is none. */
  command: string | null
  /** create/run: the --bundle/-b value, null when not given (then the cwd). */
  bundle: string | null
  /** create/run/exec: --preserve-fds N, file descriptors 3..3+N-1 to hand on. */
  preserveFds: number
  /** Global --log and --log-format, to report our own errors where the caller looks. */
  log: string | null
  logFormat: string | null
}

/** runc's (and crun's) global flags that take a value; all others are booleans. */
const GLOBAL_VALUE_FLAGS = new Set(['root', 'log', 'log-format', 'criu', 'rootless', 'cgroup-manager'])
/** Flags of create/run/exec that take a value. */
const COMMAND_VALUE_FLAGS = new Set(['bundle', 'b', 'console-socket', 'pid-file', 'preserve-fds', 'process', 'p', 'cwd', 'env', 'e', 'user', 'u', 'additional-gids', 'g', 'cap', 'c', 'apparmor', 'process-label', 'cgroup'])

/** `--name=value`, `-name value`... as runc's flag parser (Go's) accepts them. */
function flag(arg: string): { name: string; value: string | null } | null {
  const m = /^--?([^=]+)(?:=(.*))?$/s.exec(arg)
  if (!m || arg === '-' || arg === '--') return null
  return { name: m[1]!, value: m[2] ?? null }
}

/** Finds the subcommand among runc's argv (global flags come before it) and
 *  what nicback needs from the flags after it. */
export function parseRuntimeArgv(argv: readonly string[]): RuntimeArgv {
  const out: RuntimeArgv = { runtime: null, args: [], command: null, bundle: null, preserveFds: 0, log: null, logFormat: null }
  let i = 0
  for (; i < argv.length; i++) {
    const arg = argv[i]!
    const f = flag(arg)
    if (f === null) break
    const ours = f.name === 'nicback-runtime'
    const takesValue = f.value === null && (ours || GLOBAL_VALUE_FLAGS.has(f.name))
    const value = takesValue ? argv[++i] : f.value
    if (takesValue && value === undefined) throw nicbackError('shim', 'run the runtime shim', `${arg} needs a value`)
    if (ours) {
      if (!value) throw nicbackError('shim', 'run the runtime shim', '--nicback-runtime needs the path of the runtime to run')
      out.runtime = value
      continue
    }
    out.args.push(arg)
    if (takesValue) out.args.push(value!)
    if (f.name === 'log') out.log = value ?? null
    if (f.name === 'log-format') out.logFormat = value ?? null
  }
  if (i >= argv.length) return out
  out.command = argv[i]!
  out.args.push(...argv.slice(i))
  // The subcommand's own flags, up to its first positional (the container id).
  for (let j = i + 1; j < argv.length; j++) {
    const f = flag(argv[j]!)
    if (f === null) break
    let value = f.value
    if (value === null && COMMAND_VALUE_FLAGS.has(f.name)) value = argv[++j] ?? null
    if ((f.name === 'bundle' || f.name === 'b') && value !== null) out.bundle = value
    if (f.name === 'preserve-fds' && value !== null) {
      const n = Number(value)
      if (!Number.isSafeInteger(n) || n < 0) throw nicbackError('shim', 'run the runtime shim', `--preserve-fds ${value} is not a count of file descriptors`)
      out.preserveFds = n
    }
  }
  return out
}

/** Whether a config.json declares NICs for nicback to move. */
export function declaresNics(config: unknown): boolean {
  if (typeof config !== 'object' || config === null) return false
  const c = config as { annotations?: Record<string, unknown>; process?: { env?: unknown[] } }
  const annotation = c.annotations?.[NICS_ANNOTATION]
  if (typeof annotation === 'string' && annotation.trim() !== '') return true
  const env = envValue(Array.isArray(c.process?.env) ? c.process.env : undefined, NICS_ENV)
  return env !== undefined && env.trim() !== ''
}

interface Hook {
  path: string
  args?: string[]
  env?: string[]
  timeout?: number
}

export function nicbackHook(stage: (typeof HOOK_STAGES)[number], hookBin = HOOK_BIN): Hook {
  return { path: hookBin, args: ['nicback', 'hook', '--stage', stage] }
}

const sameHook = (a: Hook, b: Hook) => a.path === b.path && JSON.stringify(a.args ?? []) === JSON.stringify(b.args ?? [])

/** The stages that lack nicback's hook in a config.json object; refuses
 *  hooks of the wrong shape. */
export function missingHooks(config: Record<string, unknown>, hookBin = HOOK_BIN): (typeof HOOK_STAGES)[number][] {
  const hooks = config.hooks
  if (hooks !== undefined && (typeof hooks !== 'object' || hooks === null || Array.isArray(hooks))) {
    throw nicbackError('shim', 'run the runtime shim', 'config.json has "hooks" that is not an object')
  }
  return HOOK_STAGES.filter((stage) => {
    const list = (hooks as Record<string, unknown> | undefined)?.[stage] ?? []
    if (!Array.isArray(list)) throw nicbackError('shim', 'run the runtime shim', `config.json has "hooks.${stage}" that is not an array`)
    const hook = nicbackHook(stage, hookBin)
    return !list.some((h) => typeof h === 'object' && h !== null && sameHook(h as Hook, hook))
  })
}

/** config.json's text with nicback's hooks added, once, as text edits (the
 *  hooks already there are kept, in their order, ahead of nicback's): every other
 *  byte stays as it was (a JSON.parse/JSON.stringify round trip would turn
 *  memlock's 18446744073709551615 into 18446744073709552000, which runc
 *  refuses). null: the hooks are there already. `config` is the text parsed. */
export function addHooksToText(text: string, config: Record<string, unknown>, hookBin = HOOK_BIN): string | null {
  const missing = missingHooks(config, hookBin)
  try {
    for (const stage of missing) text = addJson(text, ['hooks', stage, -1], nicbackHook(stage, hookBin))
  } catch (err) {
    if (isNicbackError(err, 'json_edit')) throw nicbackError('shim', 'run the runtime shim', `config.json: ${err.message}`)
    throw err
  }
  return missing.length > 0 ? text : null
}

export interface BundleEdit {
  /** The container declares NICs (annotation or NICBACK_NICS). */
  declares: boolean
  /** config.json was rewritten (false: not needed, or the hooks were there). */
  changed: boolean
}

/** On `create`: adds nicback's hooks to BUNDLE/config.json when the
 *  container declares NICs. A config.json that cannot be opened or parsed
 *  is left to the runtime, which reports it in its own words; one that is
 *  not a regular file (a FIFO would hang the read) or is larger than any
 *  config is refused, as the OCI hook refuses it. */
export function editBundle(bundle: string, hookBin = HOOK_BIN): BundleEdit {
  const path = join(bundle, 'config.json')
  let text: string
  try {
    text = readBounded(path, MAX_CONFIG_BYTES)
  } catch (err) {
    if (isNicbackError(err, 'bounded_read')) throw nicbackError('shim', 'run the runtime shim', err.message)
    return { declares: false, changed: false }
  }
  let config: unknown
  try {
    config = JSON.parse(text)
  } catch {
    return { declares: false, changed: false }
  }
  if (!declaresNics(config)) return { declares: false, changed: false }
  const edited = addHooksToText(text, config as Record<string, unknown>, hookBin)
  if (edited === null) return { declares: true, changed: false }
  // Same directory, then rename: the runtime never reads half a file.
  const tmp = join(bundle, `.config.json.nicback-${process.pid}`)
  try {
    writeFileSync(tmp, edited, { mode: 0o600 })
    chmodSync(tmp, statSync(path).mode & 0o7777)
    renameSync(tmp, path)
  } catch (err) {
    throw nicbackError('shim', 'run the runtime shim', `cannot add nicback's hooks to ${path}: ${(err as Error).message}`)
  }
  return { declares: true, changed: true }
}

/** The runtime to run: --nicback-runtime, else $NICBACK_RUNTIME, else runc
 *  on $PATH or in the usual places. */
export function resolveRuntime(fromArgv: string | null, env = process.env): string {
  const name = fromArgv ?? (env.NICBACK_RUNTIME || 'runc')
  if (name.includes('/')) return name
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']
  for (const dir of dirs) {
    if (dir === '') continue
    const p = join(dir, name)
    if (existsSync(p)) return p
  }
  return name
}
