// The metrics of `nicback metrics` and of the resident agent: what a restore
// run counts (countRun, called by nicReturns under the registry's lock), and
// the numbers now (readMetrics, renderMetrics: the registry, the links and
// the counters read afresh on every call, so every mode shows the same
// numbers; the agent caches renderMetrics' text, runtimes/metrics-cache.ts).
import { lstatSync, statSync } from 'node:fs'
import { hostKernel, type Kernel } from '../apply/kernel.js'
import { initializedUsec, monotonicUsec } from '../facts/udevdb.js'
import { formatMetrics, metricsJson, runDelta, type RunNic } from '../plan/metrics.js'
import { statusRows, type StatusRow } from '../plan/status.js'
import { noRecordFacts } from './status.js'
import { loadCounters, noteRun, type Counters } from '../state/counters.js'
import { loadRegistry } from '../state/registry.js'
import { writeFileDurably } from '../system/atomic.js'
import { log } from '../system/log.js'
import { errorText, toFields } from '../system/errors.js'

/** Adds one restore run to the counters; the caller holds the registry's
 *  lock. A NIC's return time is udev's database entry for its ifindex, else
 *  `eventUsec` (the udev event's USEC_INITIALIZED, exact for the event's own
 *  NIC and an approximation for the others the same run brings home), else
 *  unknown (not observed). Never throws. */
export function countRun(nics: readonly RunNic[], applyFailed: boolean, eventUsec?: bigint | null): void {
  try {
    const now = monotonicUsec()
    noteRun(
      runDelta(nics, applyFailed, (n) => {
        const at = (n.ifindex === null ? null : initializedUsec(n.ifindex)) ?? eventUsec ?? null
        return at === null || at > now ? null : Number(now - at) / 1e6
      }),
    )
  } catch (err) {
    log.warn(`the metrics counters were not updated: ${errorText(err)}; the restore itself is not affected`, toFields(err))
  }
}

/** The numbers now: status rows (the gauges) and the counters. */
export function readMetrics(kernel: Kernel = hostKernel()): { rows: StatusRow[]; counters: Counters } {
  const links = kernel.links()
  const reg = loadRegistry()
  return { rows: statusRows(links, reg.nics, undefined, (bus) => kernel.busPresent(bus), noRecordFacts(links, reg)), counters: loadCounters() }
}

/** The numbers now, as `nicback metrics` gives them: the Prometheus text,
 *  and the same as JSON. */
export function metricsNow(): { text: string; json: () => ReturnType<typeof metricsJson> } {
  const { rows, counters } = readMetrics()
  return { text: formatMetrics(rows, counters), json: () => metricsJson(rows, counters) }
}

/** Why root must not write `file` in `dir` (the textfile), or null. Root
 *  never writes through what is there (writeFileDurably), but a directory
 *  someone else can write is theirs to fill: refused unless sticky, and in a
 *  sticky one only a file root made is replaced. */
export function textfileProblem(dir: string, file: string, uid = process.geteuid?.() ?? 0): string | null {
  const st = statSync(dir)
  const mode = (st.mode & 0o7777).toString(8).padStart(4, '0')
  const others = st.uid !== uid ? `it belongs to uid ${st.uid}` : (st.mode & 0o022) !== 0 ? `others can write it (mode ${mode})` : null
  if (others === null) return null
  const fix = `give a directory root owns that no one else can write (e.g. "install -d -o root -m 0755 DIR" and point node_exporter's --collector.textfile.directory at it)`
  if (st.uid !== uid || (st.mode & 0o1000) === 0) return `refusing ${dir}: ${others} and it is not sticky, so whoever can write it could put anything where nicback writes; ${fix}`
  let at
  try {
    at = lstatSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  if (!at.isFile()) return `refusing ${file}: it is not a regular file (${at.isSymbolicLink() ? 'a symlink' : 'a special file'}) in the sticky directory ${dir}, which others can write; remove it after checking who put it there`
  if (at.uid !== uid) return `refusing ${file}: it belongs to uid ${at.uid}, not root, in the sticky directory ${dir}, which others can write; remove it after checking who put it there`
  return null
}

/** Writes the Prometheus text for node_exporter's textfile collector. A
 *  temporary name that does not end in .prom: the collector never reads
 *  half a file. Never through a link at the destination (atomic.ts). */
export function writeTextfile(target: string, text: string): void {
  writeFileDurably(target, text, 0o644)
}

/** The Prometheus text exposition now, for the resident agent: the links
 *  are read without blocking its event loop (`ip` and sysfs asynchronously;
 *  `signal` stops that), the registry and counters are one small private
 *  file each, read with their loaders' checks. Takes no lock (both files
 *  are replaced atomically). Throws only when the registry cannot be read. */
export async function renderMetrics(signal?: AbortSignal, kernel: Kernel = hostKernel()): Promise<string> {
  const links = await kernel.linksAsync(signal)
  const reg = loadRegistry()
  const entries = reg.nics
  const buses = [...new Set([...entries.flatMap((e) => (e.away !== null && e.bus !== null ? [e.bus] : [])), ...(reg.unnamed ?? []).flatMap((u) => (u.bus !== null ? [u.bus] : []))])]
  const present = await Promise.all(buses.map((b) => kernel.busPresentAsync(b)))
  const absent = new Set(buses.filter((_, i) => !present[i]))
  return formatMetrics(
    statusRows(links, entries, undefined, (bus) => !absent.has(bus), noRecordFacts(links, reg)),
    loadCounters(),
  )
}
