// The metrics of `nicback metrics` and of the resident agent: what a restore
// run counts (countRun, called by nicReturns under the registry's lock), and
// the exposition now (renderMetrics: the registry, the links and the counters
// read afresh on every call, so every mode shows the same numbers).
import { busPresent, readLinks } from '../facts/links.js'
import { initializedUsec, monotonicUsec } from '../facts/udevdb.js'
import { formatMetrics, runDelta, type RunNic } from '../plan/metrics.js'
import { statusRows, type StatusRow } from '../plan/status.js'
import { loadCounters, noteRun, type Counters } from '../state/counters.js'
import { loadRegistry } from '../state/registry.js'
import { log } from '../system/log.js'

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
    log.warn(`the metrics counters were not updated: ${(err as Error).message}; the restore itself is not affected`)
  }
}

/** The numbers now: status rows (the gauges) and the counters. */
export function readMetrics(): { rows: StatusRow[]; counters: Counters } {
  return { rows: statusRows(readLinks(), loadRegistry().nics, undefined, busPresent), counters: loadCounters() }
}

/** The Prometheus text exposition now: for `nicback metrics` and the
 *  resident agent's HTTP endpoint. Takes no lock (the counters file is
 *  replaced atomically). Throws only when the registry cannot be read. */
export async function renderMetrics(): Promise<string> {
  const { rows, counters } = readMetrics()
  return formatMetrics(rows, counters)
}
