// What happened, said once: on stderr for a person, and to syslog/journald
// when nicback runs from udev or an OCI hook, where stderr is thrown away
// (udevd keeps only a RUN program's exit code). No pure-JS journald client is
// maintained, so it goes through logger(1), which speaks to /dev/log.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { which } from './exec.js'

type Level = 'info' | 'warning' | 'err'
let toSyslog = false
let quiet = false
/** Lines for syslog, sent in one logger(1) run when the process exits: one
 *  process start instead of one per line (each costs a few ms on a server
 *  and ~0.1 s under emulation, on the udev path). */
const pending: string[] = []
/** syslog priority prefixes (facility daemon = 3): <3*8 + severity>. */
const PRIO: Record<Level, number> = { err: 27, warning: 28, info: 30 }

function flush(): void {
  if (pending.length === 0) return
  const lines = pending.splice(0).join('\n')
  spawnSync(which('logger'), ['--tag', 'nicback', `--id=${process.pid}`, '--prio-prefix', '--socket-errors=off'], { input: `${lines}\n`, stdio: ['pipe', 'ignore', 'ignore'] })
}

/** Called by entry points that run unattended (udev, hooks). */
export function logToSyslog(on = true): void {
  toSyslog = on && existsSync('/dev/log')
  if (toSyslog) process.once('exit', flush)
}

/** --json output keeps stderr for errors only. */
export function setQuiet(on: boolean): void {
  quiet = on
}

function emit(level: Level, msg: string): void {
  if (!quiet || level !== 'info') process.stderr.write(`nicback: ${level === 'info' ? '' : `${level === 'err' ? 'error' : 'warning'}: `}${msg}\n`)
  if (toSyslog) for (const line of msg.split('\n')) pending.push(`<${PRIO[level]}>${line}`)
}

export const log = {
  info: (msg: string) => emit('info', msg),
  warn: (msg: string) => emit('warning', msg),
  error: (msg: string) => emit('err', msg),
}
