// The restore counters `nicback metrics` shows: $NICBACK_STATE_DIR/
// counters.json, beside the registry. Every nicback process adds to the same
// file (a udev event's short process, an OCI hook, `nicback restore`, the
// resident agent), so they survive between processes. Written only while the
// registry's lock is held (nicReturns adds to it inside updateRegistry: no
// second lock), schema-checked on read and before write, atomically
// (atomic.ts: never through a link, always root's). Metrics never fail a
// restore: an unreadable or invalid file is warned about, the counters start
// again from zero, and the next run that has something to count replaces it.
// A file that breaks registry.json's private-file rules (a symlink, not a
// regular file, another user's, writable by others) is refused: warned
// about, not counted into, not replaced.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs'
import * as v from 'valibot'
import { writeFileDurably } from '../system/atomic.js'
import { log } from '../system/log.js'
import { errorText, nicbackError, toFields } from '../system/errors.js'
import { countersPath, privateProblem } from '../system/paths.js'
import type { FoundBy } from '../types.js'

export { countersPath }

/** Why a NIC could not be brought home: a closed set, so that no name and
 *  no byte a container chose ever becomes a label value. */
export const CAUSES = [
  /** its recorded name is held by a device nicback does not manage */
  'name_held',
  /** its recorded name is an altname of another device */
  'altname_held',
  /** its recorded name is held by a managed NIC that cannot move itself */
  'chain_blocked',
  /** one name recorded for several NICs */
  'duplicate_record',
  /** several devices match its identity */
  'ambiguous',
  /** its recorded name is not a valid interface name */
  'invalid_name',
  /** any other reason */
  'other',
] as const
export type Cause = (typeof CAUSES)[number]

/** Upper bounds (seconds) of the return-to-name histogram's buckets; +Inf
 *  is the count. */
export const BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const

export interface Counters {
  format: 'nicback-counters'
  version: 1
  /** NICs a run tried to rename home: confirmed home by reading the kernel
   *  back (done), or not (failed). */
  restores: { done: number; failed: number }
  /** NICs a run could not plan home, by cause. */
  conflicts: Record<Cause, number>
  /** Restore runs that changed something: all their steps done (ok), or a
   *  step the kernel refused (failed; its NICs count as restores failed). */
  runs: { ok: number; failed: number }
  /** Seconds from a NIC's return (udev's USEC_INITIALIZED) to its name
   *  restored and read back. `counts` are cumulative, one per BUCKETS bound. */
  returnToName: { le: number[]; counts: number[]; sum: number; count: number }
  /** NICs back with no record, home under a name found for them, by where
   *  the name came from (plan/origin.ts). */
  found: Record<FoundBy, number>
}

export const FOUND_BY: readonly FoundBy[] = ['policy', 'sriov-cni']

/** What one restore run adds. */
export interface RunDelta {
  done: number
  failed: number
  conflicts: Partial<Record<Cause, number>>
  /** How the run went, when it changed something; null: it changed nothing. */
  run: 'ok' | 'failed' | null
  /** Return-to-name seconds of the NICs it brought home whose return time is known. */
  seconds: number[]
  /** NICs with no record it brought home under a found name, by source. */
  found?: Partial<Record<FoundBy, number>>
}

const count = v.pipe(v.number(), v.safeInteger(), v.minValue(0))

const CountersSchema = v.pipe(
  v.object({
    format: v.literal('nicback-counters'),
    version: v.literal(1),
    restores: v.object({ done: count, failed: count }),
    conflicts: v.object(Object.fromEntries(CAUSES.map((c) => [c, v.optional(count, 0)])) as Record<Cause, v.OptionalSchema<typeof count, 0>>),
    // absent from files written before runs were counted
    runs: v.optional(v.object({ ok: count, failed: count }), { ok: 0, failed: 0 }),
    // absent from files written before names were found
    found: v.optional(v.object({ policy: v.optional(count, 0), 'sriov-cni': v.optional(count, 0) }), { policy: 0, 'sriov-cni': 0 }),
    returnToName: v.pipe(
      v.object({
        le: v.array(v.number()),
        counts: v.array(count),
        sum: v.pipe(v.number(), v.finite(), v.minValue(0)),
        count,
      }),
      v.check((h) => h.le.length === BUCKETS.length && h.le.every((b, i) => b === BUCKETS[i]), `has other bucket bounds than ${BUCKETS.join(', ')}`),
      v.check((h) => h.counts.length === BUCKETS.length && h.counts.every((c, i) => i === 0 || c >= h.counts[i - 1]!) && (h.counts.at(-1) ?? 0) <= h.count, 'has bucket counts that are not cumulative'),
    ),
  }),
)

export function emptyCounters(): Counters {
  return {
    format: 'nicback-counters',
    version: 1,
    restores: { done: 0, failed: 0 },
    conflicts: Object.fromEntries(CAUSES.map((c) => [c, 0])) as Record<Cause, number>,
    runs: { ok: 0, failed: 0 },
    returnToName: { le: [...BUCKETS], counts: BUCKETS.map(() => 0), sum: 0, count: 0 },
    found: { policy: 0, 'sriov-cni': 0 },
  }
}

const issues = (r: { issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]] }) =>
  r.issues
    .slice(0, 3)
    .map((i) => `${v.getDotPath(i) ?? '(top)'}: ${i.message}`)
    .join('; ')

/** Pure: the counters in a file's text, or why there are none. */
export function parseCounters(text: string): { counters: Counters } | { problem: string } {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    return { problem: `it is not valid JSON (${(err as Error).message})` }
  }
  const r = v.safeParse(CountersSchema, data)
  return r.success ? { counters: r.output as Counters } : { problem: `it fails the counters schema (${issues(r)})` }
}

/** The warning for a counters file that cannot be used: names the file and the fix. */
export function countersWarning(path: string, problem: string): string {
  return `ignoring the metrics counters ${path}: ${problem}; the restore counters start again from zero (the next restore replaces the file; or remove it). Restores are not affected`
}

/** The counters on disk, or zero when there is no file yet. Never throws:
 *  a file that cannot be used gives zero and a problem to warn about.
 *  `refused`: the file is not nicback's to trust or replace (a symlink, not
 *  a regular file, another user's, writable by others: the rules of
 *  registry.json); nothing is counted into it until an admin fixes it. */
export function readCounters(path = countersPath()): { counters: Counters; problem: string | null; refused?: true } {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return { counters: emptyCounters(), problem: null }
    if (code === 'ELOOP') return { counters: emptyCounters(), problem: 'it is a symlink', refused: true }
    return { counters: emptyCounters(), problem: `it cannot be read (${(err as Error).message})` }
  }
  let text: string
  try {
    const st = fstatSync(fd)
    const why = privateProblem(st, 'file')
    if (why !== null) return { counters: emptyCounters(), problem: why, refused: true }
    if (st.size > 1 << 20) return { counters: emptyCounters(), problem: `it is ${st.size} bytes, far more than counters take` }
    text = readFileSync(fd, 'utf8')
  } catch (err) {
    return { counters: emptyCounters(), problem: `it cannot be read (${(err as Error).message})` }
  } finally {
    closeSync(fd)
  }
  const r = parseCounters(text)
  return 'problem' in r ? { counters: emptyCounters(), problem: r.problem } : { counters: r.counters, problem: null }
}

/** The warning for a counters file nicback refuses: not counted into, not replaced. */
export function countersRefusal(path: string, problem: string): string {
  return `refusing the metrics counters ${path}: ${problem}; nothing is counted until it is root's and private ("chown root: ${path} && chmod 0600 ${path}") or removed. Restores are not affected`
}

/** Reads the counters, warning (once a call) about a file that cannot be used. */
export function loadCounters(path = countersPath()): Counters {
  const { counters, problem, refused } = readCounters(path)
  if (problem !== null) log.warn(refused ? countersRefusal(path, problem) : countersWarning(path, problem), { path, cause: problem })
  return counters
}

/** Writes the counters; never a file that would not be read back. */
export function saveCounters(c: Counters, path = countersPath()): void {
  const r = v.safeParse(CountersSchema, c)
  if (!r.success) throw nicbackError('refused', 'write the metrics counters', `nicback refused to write metrics counters it would not read back (${issues(r)}); ${path} is unchanged`)
  writeFileDurably(path, `${JSON.stringify(c)}\n`, 0o600)
}

/** Whether a run has anything to count (a run that did nothing writes nothing). */
export function isEmptyDelta(d: RunDelta): boolean {
  return d.done === 0 && d.failed === 0 && d.run === null && d.seconds.length === 0 && Object.values(d.conflicts).every((n) => !n) && Object.values(d.found ?? {}).every((n) => !n)
}

/** Pure: `c` with one run added. A NaN, negative or infinite duration is
 *  dropped (a clock oddity is not an observation). */
export function addRun(c: Counters, d: RunDelta): Counters {
  const out: Counters = structuredClone(c)
  out.restores.done += d.done
  out.restores.failed += d.failed
  for (const cause of CAUSES) out.conflicts[cause] += d.conflicts[cause] ?? 0
  if (d.run !== null) out.runs[d.run] += 1
  for (const by of FOUND_BY) out.found[by] += d.found?.[by] ?? 0
  const h = out.returnToName
  for (const s of d.seconds) {
    if (!Number.isFinite(s) || s < 0) continue
    h.count += 1
    h.sum += s
    BUCKETS.forEach((bound, i) => {
      if (s <= bound) h.counts[i]! += 1
    })
  }
  return out
}

/** Adds one run to the counters file. The caller holds the registry's lock.
 *  Never throws: metrics never fail a restore. */
export function noteRun(d: RunDelta, path = countersPath()): void {
  if (isEmptyDelta(d)) return
  try {
    const { counters, problem, refused } = readCounters(path)
    if (refused) {
      // Another user's file, a link, a file others can write: never
      // written through, never replaced by one that keeps its owner.
      log.warn(countersRefusal(path, problem!), { path, cause: problem! })
      return
    }
    if (problem !== null) log.warn(countersWarning(path, problem), { path, cause: problem })
    saveCounters(addRun(counters, d), path)
  } catch (err) {
    log.warn(`the metrics counters in ${path} were not updated: ${errorText(err)}; the restore itself is not affected`, { ...toFields(err), path })
  }
}
