// nicback's entry in dockerd's /etc/docker/daemon.json: one key under
// "runtimes", added to whatever the file holds as a text edit, never
// clobbering it: every other byte stays (numbers such as
// 9223372036854775807 too, which a JSON.parse round trip would round). The
// manifest keeps a note of what was added, so uninstall takes out exactly
// that key (and the file or the "runtimes" object only if nicback made them).
import { existsSync, readFileSync } from 'node:fs'
import { add, emptyInside, nodeAt, remove, tree } from '../system/json-edit.js'

export const DAEMON_JSON = '/etc/docker/daemon.json'
export const RUNTIME_NAME = 'nicback'

import type { DockerNote } from '../state/manifest.js'
import { isNicbackError, nicbackError } from '../system/errors.js'

/** What `nicback install --docker` added, kept in the install manifest. */
export type { DockerNote }

export interface RuntimeValue {
  path: string
  runtimeArgs?: string[]
}

type Json = Record<string, unknown>

function parseObject(text: string, path: string): Json {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw nicbackError('daemon_json', 'edit daemon.json', `${path} is not valid JSON (${(err as Error).message}): nicback will not touch it`, { fix: 'fix it first (dockerd refuses to start with it too)' })
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw nicbackError('daemon_json', 'edit daemon.json', `${path} is not a JSON object: nicback will not touch it`)
  return data as Json
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const canonical = (v: unknown): string => JSON.stringify(v, (_, x) => (isObject(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x))

/** Runs a minimal text edit, naming the file when it refuses (a key given twice). */
function edit<T>(path: string, f: () => T): T {
  try {
    return f()
  } catch (err) {
    if (isNicbackError(err, 'json_edit')) throw nicbackError('daemon_json', 'edit daemon.json', `${path}: ${err.message}: nicback will not touch it`)
    throw err
  }
}

/** daemon.json's text with runtimes[name] = value added: a text edit of that
 *  one key, every other byte (numbers, layout, key order) as it was. `text`
 *  null: no file yet. `empty`: what the key replaced, for removeRuntime (the
 *  whitespace in an empty object, or a file of only whitespace). */
export function addRuntime(text: string | null, path: string, name: string, value: RuntimeValue): { text: string; changed: boolean; createdFile: boolean; createdRuntimes: boolean; empty?: string } {
  const createdFile = text === null || text.trim() === ''
  if (createdFile) return { text: `${JSON.stringify({ runtimes: { [name]: value } }, null, 2)}\n`, changed: true, createdFile, createdRuntimes: true, ...(text !== null ? { empty: text } : {}) }
  // JSON.parse checks the file and reads nicback's part; never written back.
  const obj = parseObject(text!, path)
  if (obj.runtimes !== undefined && !isObject(obj.runtimes)) throw nicbackError('daemon_json', 'edit daemon.json', `${path} has "runtimes" that is not an object: nicback will not touch it`)
  const createdRuntimes = obj.runtimes === undefined
  const existing = (obj.runtimes as Json | undefined)?.[name]
  if (existing !== undefined) {
    edit(path, () => nodeAt(tree(text!), ['runtimes', name]))
    if (canonical(existing) === canonical(value)) return { text: text!, changed: false, createdFile: false, createdRuntimes: false }
    throw nicbackError('daemon_json', 'edit daemon.json', `${path} already has a runtime named "${name}" (${JSON.stringify(existing)}) that nicback did not write: remove it, then run "nicback install --docker" again`)
  }
  const inside = edit(path, () => emptyInside(text!, createdRuntimes ? [] : ['runtimes']))
  return { text: edit(path, () => add(text!, ['runtimes', name], value)), changed: true, createdFile, createdRuntimes, ...(inside ? { empty: inside } : {}) }
}

/** daemon.json's text without runtimes[name], as a text edit (the inverse of
 *  addRuntime's: the text before it, byte for byte, when nothing else changed
 *  since); null: delete the file (nicback made it and nothing else is left in
 *  it). */
export function removeRuntime(text: string, note: DockerNote): { text: string | null; changed: boolean } {
  const obj = parseObject(text, note.path)
  const runtimes = obj.runtimes
  if (!isObject(runtimes) || runtimes[note.runtime] === undefined) return { text, changed: false }
  const dropRuntimes = note.createdRuntimes && Object.keys(runtimes).length === 1
  if (note.createdFile && dropRuntimes && Object.keys(obj).length === 1) return { text: note.empty ?? null, changed: true }
  return { text: edit(note.path, () => remove(text, dropRuntimes ? ['runtimes'] : ['runtimes', note.runtime], note.empty)), changed: true }
}

export function readIfExists(path: string): string | null {
  return existsSync(path) ? readFileSync(path, 'utf8') : null
}

/** Asks a running dockerd to read daemon.json again (runtimes are reloadable). */
export function reloadDockerd(): string | null {
  for (const pidFile of ['/run/docker.pid', '/var/run/docker.pid']) {
    let pid: number
    try {
      pid = Number(readFileSync(pidFile, 'utf8').trim())
    } catch {
      continue
    }
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'dockerd') continue
      process.kill(pid, 'SIGHUP')
      return `asked dockerd (pid ${pid}) to reload ${DAEMON_JSON}`
    } catch {
      continue
    }
  }
  return null
}
