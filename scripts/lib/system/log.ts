// What happened, said once: on stderr for a person, and to syslog/journald
// when nicback runs from udev or an OCI hook, where stderr is thrown away
// (udevd keeps only a RUN program's exit code). No pure-JS journald client is
// maintained, so it goes through logger(1), which speaks to /dev/log. The
// resident agent (`nicback watch`) can write one JSON object a line instead,
// for a log collector; fields name the NIC, the cause and the fix (and a
// NicbackError's code and verb: toFields in system/errors.ts). Text lines
// render the fields the sentence does not already say. Messages
// name what containers chose: text and syslog lines show them through
// printable(), JSON lines carry them exactly (system/printable.ts).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { which } from './exec.js'
import { jsonText, printable } from './printable.js'

export type Level = 'debug' | 'info' | 'warning' | 'err'
/** Structured fields of a line: carried by JSON lines, rendered by text
 *  lines (those the sentence does not say already). */
export interface Fields {
  nic?: string
  cause?: string
  fix?: string
  /** A NicbackError's code (system/errors.ts). */
  code?: string
  [k: string]: unknown
}

/** Pure: the fields a text line adds after its sentence: " [k=v k2=v2]" in
 *  the fields' order, each that says something the sentence does not say
 *  already (a cause or fix it quotes, the NIC or the count it names; a list
 *  all of whose items it names; a false flag); a list is joined with ",", a
 *  value with white space, quotes, brackets or "=" is quoted as JSON.
 *  Escaped by the caller. */
export function fieldsText(msg: string, fields: Fields | undefined): string {
  const said = (x: unknown) => (typeof x === 'string' || typeof x === 'number') && msg.includes(String(x))
  const parts: string[] = []
  for (const [k, v] of Object.entries(fields ?? {})) {
    if (v === undefined || v === null || v === '' || v === false || said(v)) continue
    if (Array.isArray(v) && (v.length === 0 || v.every(said))) continue
    const text = Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v)
    parts.push(`${k}=${/^[^\s"=[\]]+$/.test(text) ? text : JSON.stringify(text)}`)
  }
  return parts.length === 0 ? '' : ` [${parts.join(' ')}]`
}
let toSyslog = false
let quiet = false
let json = false
/** Lines for syslog, sent in one logger(1) run when the process exits: one
 *  process start instead of one per line (each costs a few ms on a server
 *  and ~0.1 s under emulation, on the udev path). */
const pending: string[] = []
/** syslog priority prefixes (facility daemon = 3): <3*8 + severity>. */
const PRIO: Record<Level, number> = { err: 27, warning: 28, info: 30, debug: 31 }
const debugOn = process.env.NICBACK_DEBUG === '1'

/** Pure: the node's name for every line, from NICBACK_NODE_NAME (the
 *  DaemonSet sets it from spec.nodeName through the downward API), when it
 *  is a DNS subdomain as Kubernetes names nodes; null otherwise. */
export function nodeName(raw: string | undefined): string | null {
  return raw !== undefined && raw.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(raw) ? raw : null
}
const node = nodeName(process.env.NICBACK_NODE_NAME)

/** Sends the lines kept for syslog now (a long-running process calls this
 *  after each piece of work; short ones flush at exit). */
export function flushSyslog(): void {
  if (pending.length === 0) return
  const lines = pending.splice(0).join('\n')
  spawnSync(which('logger'), ['--tag', 'nicback', `--id=${process.pid}`, '--prio-prefix', '--socket-errors=off'], { input: `${lines}\n`, stdio: ['pipe', 'ignore', 'ignore'] })
}

/** Called by entry points that run unattended (udev, hooks, watch). */
export function logToSyslog(on = true): void {
  toSyslog = on && existsSync('/dev/log')
  if (toSyslog) process.once('exit', flushSyslog)
}

/** --json output keeps stderr for errors only. */
export function setQuiet(on: boolean): void {
  quiet = on
}

/** One JSON object a line on stderr instead of text. */
export function setJsonLogs(on: boolean): void {
  json = on
}

/** Pure: a line on stderr, one JSON object (exact strings) or text for a
 *  person (escaped). */
export function stderrLine(level: Level, msg: string, fields: Fields | undefined, asJson: boolean, time = new Date(), onNode: string | null = node): string {
  if (asJson) return jsonText({ time: time.toISOString(), level: level === 'err' ? 'error' : level, ...(onNode === null ? {} : { node: onNode }), msg, ...fields })
  return `nicback${onNode === null ? '' : ` on ${onNode}`}: ${level === 'info' || level === 'debug' ? '' : `${level === 'err' ? 'error' : 'warning'}: `}${printable(msg + fieldsText(msg, fields))}`
}

/** Pure: the line for logger(1) --prio-prefix: one line, escaped, with the
 *  fields as a text line has them. */
export function syslogLine(level: Level, msg: string, fields?: Fields): string {
  return `<${PRIO[level]}>${printable(msg + fieldsText(msg, fields))}`
}

function emit(level: Level, msg: string, fields?: Fields): void {
  if (level === 'debug' && !debugOn) {
    // syslog keeps it at debug priority; a person asks with NICBACK_DEBUG=1
    if (toSyslog) pending.push(syslogLine('debug', msg, fields))
    return
  }
  if (json || !quiet || level === 'warning' || level === 'err') process.stderr.write(`${stderrLine(level, msg, fields, json)}\n`)
  if (toSyslog) pending.push(syslogLine(level, msg, fields))
}

export const log = {
  debug: (msg: string, fields?: Fields) => emit('debug', msg, fields),
  info: (msg: string, fields?: Fields) => emit('info', msg, fields),
  warn: (msg: string, fields?: Fields) => emit('warning', msg, fields),
  error: (msg: string, fields?: Fields) => emit('err', msg, fields),
}
