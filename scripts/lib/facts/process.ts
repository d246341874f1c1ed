// The agent's own process, for the standard process_* metrics every
// Prometheus client exports (prometheus.io/docs/instrumenting/writing_clientlibs,
// "Process metrics"): CPU, memory, start time, descriptors. Read from
// /proc/self asynchronously: the agent reads them between restore runs,
// never on a scrape.
import { readdir, readFile } from 'node:fs/promises'

export interface ProcessFacts {
  cpuUserSeconds: number
  cpuSystemSeconds: number
  residentBytes: number
  virtualBytes: number
  startTimeSeconds: number
  openFds: number
  /** The soft limit on open descriptors; null when unlimited or unknown. */
  maxFds: number | null
}

/** Pure: the soft "Max open files" of /proc/self/limits. */
export function maxOpenFiles(limits: string): number | null {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits)
  return m === null || m[1] === 'unlimited' ? null : Number(m[1])
}

/** Pure: VmSize of /proc/self/status, in bytes. */
export function virtualBytes(status: string): number {
  const m = /^VmSize:\s+(\d+) kB$/m.exec(status)
  return m === null ? 0 : Number(m[1]) * 1024
}

export async function readProcessFacts(now = Date.now()): Promise<ProcessFacts> {
  const cpu = process.cpuUsage()
  const [fds, limits, status] = await Promise.all([
    readdir('/proc/self/fd').then(
      (l) => l.length,
      () => 0,
    ),
    readFile('/proc/self/limits', 'utf8').catch(() => ''),
    readFile('/proc/self/status', 'utf8').catch(() => ''),
  ])
  return {
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
    residentBytes: process.memoryUsage.rss(),
    virtualBytes: virtualBytes(status),
    startTimeSeconds: Math.round((now / 1000 - process.uptime()) * 1000) / 1000,
    openFds: fds,
    maxFds: maxOpenFiles(limits),
  }
}
