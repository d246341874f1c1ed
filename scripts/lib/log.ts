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

/** Called by entry points that run unattended (udev, hooks). */
export function logToSyslog(on = true): void {
  toSyslog = on && existsSync('/dev/log')
}

/** --json output keeps stderr for errors only. */
export function setQuiet(on: boolean): void {
  quiet = on
}

function emit(level: Level, msg: string): void {
  if (!quiet || level !== 'info') process.stderr.write(`nicback: ${level === 'info' ? '' : `${level === 'err' ? 'error' : 'warning'}: `}${msg}\n`)
  if (toSyslog) {
    spawnSync(which('logger'), ['--tag', 'nicback', '--id', String(process.pid), '--priority', `daemon.${level}`, '--', msg], { stdio: 'ignore' })
  }
}

export const log = {
  info: (msg: string) => emit('info', msg),
  warn: (msg: string) => emit('warning', msg),
  error: (msg: string) => emit('err', msg),
}
