// The metrics of `nicback metrics` and of the resident agent: what a restore
// run counts (countRun, called by nicReturns under the registry's lock), and
// the numbers now (readMetrics, renderMetrics: the registry, the links and
// the counters read afresh on every call, so every mode shows the same
// numbers; the agent caches renderMetrics' text, runtimes/metrics-cache.ts).
import { busPresent, busPresentAsync, readLinks, readLinksAsync } from '../facts/links.js'
import { initializedUsec, monotonicUsec } from '../facts/udevdb.js'
import { formatMetrics, runDelta, type RunNic } from '../plan/metrics.js'
import { statusRows, type StatusRow } from '../plan/status.js'
import { loadCounters, noteRun, type Counters } from '../state/counters.js'
import { loadRegistry } from '../state/registry.js'
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
export function readMetrics(): { rows: StatusRow[]; counters: Counters } {
  return { rows: statusRows(readLinks(), loadRegistry().nics, undefined, busPresent), counters: loadCounters() }
}

/** The Prometheus text exposition now, for the resident agent: the links
 *  are read without blocking its event loop (`ip` and sysfs asynchronously;
 *  `signal` stops that), the registry and counters are one small private
 *  file each, read with their loaders' checks. Takes no lock (both files
 *  are replaced atomically). Throws only when the registry cannot be read. */
export async function renderMetrics(signal?: AbortSignal): Promise<string> {
  const links = await readLinksAsync(signal)
  const entries = loadRegistry().nics
  const buses = [...new Set(entries.flatMap((e) => (e.away !== null && e.bus !== null ? [e.bus] : [])))]
  const present = await Promise.all(buses.map(busPresentAsync))
  const absent = new Set(buses.filter((_, i) => !present[i]))
  return formatMetrics(statusRows(links, entries, undefined, (bus) => !absent.has(bus)), loadCounters())
}
