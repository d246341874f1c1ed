// The agent's own process, for the process_* metrics.
import { describe, expect, it } from 'vitest'
import { maxOpenFiles, readProcessFacts, virtualBytes } from '../../../scripts/lib/facts/process.js'

describe('process facts', () => {
  it('the soft open-files limit and VmSize, from /proc/self/limits and /proc/self/status', () => {
    expect(maxOpenFiles('Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n')).toBe(1024)
    expect(maxOpenFiles('Max open files            unlimited            unlimited            files\n')).toBeNull()
    expect(maxOpenFiles('')).toBeNull()
    expect(virtualBytes('Name:\tnode\nVmSize:\t  123456 kB\nVmRSS:\t 1000 kB\n')).toBe(123456 * 1024)
    expect(virtualBytes('')).toBe(0)
  })
  it('this process, read as the agent reads it', async () => {
    const now = Date.now()
    const p = await readProcessFacts(now)
    expect(p.residentBytes).toBeGreaterThan(1 << 20)
    expect(p.virtualBytes).toBeGreaterThan(p.residentBytes)
    expect(p.openFds).toBeGreaterThan(2)
    expect(p.startTimeSeconds).toBeLessThanOrEqual(now / 1000)
    expect(p.startTimeSeconds).toBeGreaterThan(now / 1000 - process.uptime() - 2)
    expect(p.cpuUserSeconds + p.cpuSystemSeconds).toBeGreaterThan(0)
  })
})
