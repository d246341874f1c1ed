// Runs system commands synchronously with child_process: the udev hot path
// cannot afford zx's import (~20 ms, see docs/design.md, "Start-up cost"), and every
// command nicback runs there is a short one-shot (`ip`, `flock`, `logger`).
// The resident agent reads facts for its metrics with runBytesAsync, which
// leaves its event loop free (restores and probes go on meanwhile).
import { execFile, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { NicbackError } from './errors.js'

/** udev and OCI runtimes start us with a minimal PATH: look in the usual places. */
const SEARCH = ['/usr/sbin', '/sbin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/local/bin']
const resolved = new Map<string, string>()

export function which(cmd: string): string {
  let path = resolved.get(cmd)
  if (path === undefined) {
    path = SEARCH.map((dir) => `${dir}/${cmd}`).find((p) => existsSync(p)) ?? cmd
    resolved.set(cmd, path)
  }
  return path
}

/** A command that failed: a NicbackError with code 'command_failed', its
 *  argv, stderr and exit status. */
export type CommandFailure = NicbackError & { code: 'command_failed'; argv: string[]; stderr: string; status: number | null }

/** Pure: `err` is a command that failed. */
export function isCommandFailure(err: unknown): err is CommandFailure {
  return err instanceof NicbackError && err.code === 'command_failed'
}

/** Runs `cmd args...`, returns stdout; throws a CommandFailure with stderr. */
export function run(cmd: string, args: string[], input?: string | Buffer): string {
  try {
    return execFileSync(which(cmd), args, {
      encoding: 'utf8',
      input,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      maxBuffer: 256 << 20,
    })
  } catch (err) {
    throw commandError(cmd, args, err)
  }
}

/** Runs `cmd args...`, returns stdout as bytes (output that may hold any
 *  byte a device name or alias can: see facts/links.ts). */
export function runBytes(cmd: string, args: string[], input?: string | Buffer): Buffer {
  try {
    return execFileSync(which(cmd), args, { input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], maxBuffer: 256 << 20 })
  } catch (err) {
    throw commandError(cmd, args, err)
  }
}

/** runBytes without blocking: the same output, or a CommandFailure; `signal`
 *  kills the command (an AbortError then). */
export function runBytesAsync(cmd: string, args: string[], signal?: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(which(cmd), args, { encoding: 'buffer', maxBuffer: 256 << 20, signal }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout)
      else if (err.name === 'AbortError') reject(err)
      else reject(commandError(cmd, args, { ...err, message: err.message, status: typeof err.code === 'number' ? err.code : null, stderr }))
    })
  })
}

function commandError(cmd: string, args: string[], err: unknown): CommandFailure {
  const e = err as { stderr?: string | Buffer; status?: number | null; message: string }
  const stderr = e.stderr ? String(e.stderr) : e.message
  const argv = [cmd, ...args]
  const status = e.status ?? null
  return new NicbackError({ code: 'command_failed', verb: `run ${cmd}`, cause: `${argv.join(' ')}: ${stderr.trim() || `exit status ${status}`}`, argv, stderr, status }) as CommandFailure
}
