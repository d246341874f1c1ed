// The registry of host NIC names: $NICBACK_STATE_DIR/registry.json (default
// /var/lib/nicback). Schema-checked on every read, written atomically and
// durably (atomic.ts), mode 0600, every read-modify-write under the flock of
// lock.ts.
// A file that is not a valid registry is never overwritten.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs'
import * as v from 'valibot'
import { writeFileDurably } from '../system/atomic.js'
import { sameNic, identityKey } from '../facts/identity.js'
import { withLock } from '../system/lock.js'
import { checkPrivateDir, ensurePrivateDir, privateProblem, registryPath, stateDir } from '../system/paths.js'
import { dirname } from 'node:path'
import { isValidIfname } from '../facts/names.js'
import type { Entry, Registry } from '../types.js'
import { nicbackError } from '../system/errors.js'

/** Text nicback writes and reads back: no control characters (a registry
 *  is read by people too). */
// eslint-disable-next-line no-control-regex -- it rejects control characters
const text = v.pipe(v.string(), v.maxLength(4096, 'is longer than 4096 characters'), v.regex(/^[^\u0000-\u001f\u007f]*$/, 'holds control characters'))
const nullableString = v.nullable(text)
const ifname = v.pipe(v.string(), v.check(isValidIfname, 'not a valid interface name'))
const mac = v.nullable(v.pipe(v.string(), v.regex(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/, 'not a MAC address')))
const count = v.pipe(v.number(), v.safeInteger(), v.minValue(0))

const AwaySchema = v.object({
  since: text,
  via: v.picklist(['udev', 'hook', 'assign', 'release']),
  leftAs: ifname,
  container: v.optional(
    v.object({
      id: v.optional(text),
      name: v.optional(text),
      pid: v.optional(count),
      netns: v.optional(text),
    }),
  ),
  insideName: v.optional(ifname),
  netnsInode: v.optional(count),
})

const EntrySchema = v.object({
  name: ifname,
  bus: nullableString,
  devPort: v.nullable(count),
  permAddr: mac,
  mac,
  ifindex: v.nullable(count),
  driver: nullableString,
  mtu: v.nullable(count),
  up: v.nullable(v.boolean()),
  recordedAt: text,
  away: v.nullable(AwaySchema),
  foundBy: v.optional(v.picklist(['policy', 'sriov-cni'])),
})

const UnnamedSchema = v.object({
  bus: nullableString,
  devPort: v.nullable(count),
  permAddr: mac,
  mac,
  seenAt: text,
  netnsInode: count,
  where: text,
  insideName: v.nullable(ifname),
})

const RegistrySchema = v.object({
  format: v.literal('nicback-registry'),
  version: v.literal(1),
  nics: v.array(EntrySchema),
  unnamed: v.optional(v.array(UnnamedSchema)),
})

export { registryPath, stateDir }

export function emptyRegistry(): Registry {
  return { format: 'nicback-registry', version: 1, nics: [] }
}

/** Parses and checks a registry file's text. */
export function parseRegistry(text: string, path: string): Registry {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw nicbackError('registry', 'read the registry', `${path} is not valid JSON (${(err as Error).message})`, { fix: 'nicback will not overwrite it: move it aside and run "nicback record"' })
  }
  const looksOurs = typeof data === 'object' && data !== null && (data as { format?: unknown }).format === 'nicback-registry'
  if (!looksOurs) {
    throw nicbackError('registry', 'read the registry', `${path} is not a nicback registry (no "format": "nicback-registry")`, { fix: 'nicback will not overwrite it: move it aside or set NICBACK_STATE_DIR' })
  }
  const version = (data as { version?: unknown }).version
  if (typeof version === 'number' && version > 1) {
    throw nicbackError('registry', 'read the registry', `${path} was written by a newer nicback (registry version ${version}, this one reads 1): upgrade nicback`)
  }
  const r = v.safeParse(RegistrySchema, data)
  if (!r.success) {
    const where = r.issues
      .slice(0, 3)
      .map((i) => `${v.getDotPath(i) ?? '(top)'}: ${i.message}`)
      .join('; ')
    throw nicbackError('registry', 'read the registry', `${path} fails the registry schema (${where})`, { fix: 'nicback will not overwrite it: fix or move it aside and run "nicback record"' })
  }
  return r.output as Registry
}

/** Why one entry would not be read back, or null: the same schema as reading. */
export function entryProblem(e: Entry): string | null {
  const r = v.safeParse(EntrySchema, e)
  return r.success
    ? null
    : r.issues
        .slice(0, 3)
        .map((i) => `${v.getDotPath(i) ?? '(top)'}: ${i.message}`)
        .join('; ')
}

/** The registry, or an empty one when the file does not exist yet. Only a
 *  regular file that is root's and writable by no one else is read. */
export function loadRegistry(path = registryPath()): Registry {
  checkPrivateDir(dirname(path))
  let content: string
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return emptyRegistry()
    throw nicbackError('registry', 'read the registry', code === 'ELOOP' ? `${path} is a symlink` : `cannot read ${path}: ${(err as Error).message}`, {
      fix: code === 'ELOOP' ? 'nicback reads only a regular file there: remove the link' : code === 'EACCES' ? 'run nicback as root, or set NICBACK_STATE_DIR to a directory you own' : undefined,
    })
  }
  try {
    const problem = privateProblem(fstatSync(fd), 'file')
    if (problem !== null) throw nicbackError('registry', 'read the registry', `refusing ${path}: ${problem}`, { fix: `make it root's and private ("chown root: ${path} && chmod 0600 ${path}") after checking its contents, or move it aside` })
    content = readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
  return parseRegistry(content, path)
}

/** Writes the registry; never one that would not be read back: every entry
 *  is checked with the schema that reads it. */
export function saveRegistry(reg: Registry, path = registryPath()): void {
  const r = v.safeParse(RegistrySchema, reg)
  if (!r.success) {
    const where = r.issues
      .slice(0, 3)
      .map((i) => `${v.getDotPath(i) ?? '(top)'}: ${i.message}`)
      .join('; ')
    throw nicbackError('registry', 'write the registry', `nicback refused to write a registry it would not read back (${where}); ${path} is unchanged`)
  }
  ensurePrivateDir(dirname(path))
  writeFileDurably(path, `${JSON.stringify(reg, null, 2)}\n`, 0o600)
}

/** Read-modify-write under the lock. `fn` returns whether it changed `reg`. */
export function updateRegistry<T>(fn: (reg: Registry) => { changed: boolean; value: T }, opts: { path?: string; lockTimeoutSec?: number } = {}): T {
  const path = opts.path ?? registryPath()
  return withLock(`${path}.lock`, opts.lockTimeoutSec ?? 10, () => {
    const reg = loadRegistry(path)
    const { changed, value } = fn(reg)
    if (changed) saveRegistry(reg, path)
    return value
  })
}

/** Puts `entry` in the registry in place of any entry for the same NIC or
 *  under the same name; returns the entries of *other* NICs it displaced. */
export function putEntry(reg: Registry, entry: Entry): Entry[] {
  const displaced = reg.nics.filter((e) => e.name === entry.name && !sameNic(e, entry))
  reg.nics = reg.nics.filter((e) => !sameNic(e, entry) && !sameNic(entry, e) && e.name !== entry.name)
  reg.nics.push(entry)
  reg.nics.sort((a, b) => a.name.localeCompare(b.name))
  return displaced
}

export function describeEntry(e: Entry): string {
  return `${e.name} (${identityKey(e)})`
}
