// The metrics moment (moments/metrics.ts): what nicReturns counts, under its
// lock, with the kernel, the executor and the network manager stood in for
// (as in return.test.ts); and renderMetrics, the agent's entry point.
import { chmodSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ApplyResult, SettingError } from '../../../scripts/lib/apply/executor.js'
import { monotonicUsec } from '../../../scripts/lib/facts/udevdb.js'
import { renderMetrics, textfileProblem } from '../../../scripts/lib/moments/metrics.js'
import { nicReturns } from '../../../scripts/lib/moments/return.js'
import { countersPath, readCounters } from '../../../scripts/lib/state/counters.js'
import { loadRegistry, saveRegistry } from '../../../scripts/lib/state/registry.js'
import { log } from '../../../scripts/lib/system/log.js'
import type { Away, Entry, Link } from '../../../scripts/lib/types.js'
import { parseExposition, valueOf } from '../../promtext.js'
import { entry, link, reg, useTempStateDir } from '../helpers.js'

const kernel = vi.hoisted(() => ({
  before: [] as Link[],
  after: null as Link[] | null,
  result: { names: { done: [] }, settingErrors: [] } as { names: ApplyResult; settingErrors: SettingError[] },
  db: new Map<number, bigint>(),
  /** Bus positions with no device any more. */
  absent: new Set<string>(),
}))
vi.mock('../../../scripts/lib/facts/links.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../scripts/lib/facts/links.js')>()),
  readLinks: () => kernel.before,
  readLinksAsync: async () => kernel.before,
  refreshLinks: () => kernel.after ?? kernel.before,
  busPresent: (bus: string) => !kernel.absent.has(bus),
  busPresentAsync: async (bus: string) => !kernel.absent.has(bus),
}))
vi.mock('../../../scripts/lib/apply/executor.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../scripts/lib/apply/executor.js')>()),
  applyPlan: vi.fn(() => kernel.result),
}))
vi.mock('../../../scripts/lib/apply/notify.js', () => ({ notifyNetworkManagers: vi.fn(() => true) }))
// udev's database of this machine says nothing about the test's NICs.
vi.mock('../../../scripts/lib/facts/udevdb.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../scripts/lib/facts/udevdb.js')>()),
  initializedUsec: (ifindex: number) => kernel.db.get(ifindex) ?? null,
}))

const pci = (slot: number) => `0000:00:${slot.toString(16).padStart(2, '0')}.0`
const AWAY: Away = { since: '2024-01-01T00:00:00.000Z', via: 'udev', leftAs: 'x' }
const nic = (slot: number, name: string) => link(name, { ifindex: slot, bus: pci(slot), mac: `02:00:00:00:00:${slot.toString(16).padStart(2, '0')}` })
const rec = (slot: number, name: string, o: Partial<Entry> = {}) => entry(name, { ifindex: slot, bus: pci(slot), mac: `02:00:00:00:00:${slot.toString(16).padStart(2, '0')}`, away: { ...AWAY, leftAs: name }, ...o })

useTempStateDir()
beforeEach(() => {
  // ens3 and ens4 are back as dev3 and dev4; ens5 is home; ens6 is away.
  saveRegistry(reg(rec(3, 'ens3'), rec(4, 'ens4'), rec(5, 'ens5', { away: null }), rec(6, 'ens6')))
  kernel.before = [nic(3, 'dev3'), nic(4, 'dev4'), nic(5, 'ens5')]
  kernel.after = [nic(3, 'ens3'), nic(4, 'ens4'), nic(5, 'ens5')]
  kernel.result = { names: { done: [] }, settingErrors: [] }
  kernel.db.clear()
})
afterEach(() => vi.restoreAllMocks())

describe('nicReturns counts', () => {
  it('NICs brought home, and their return-to-name time: their own udev db entry first, else the event', () => {
    kernel.db.set(3, monotonicUsec() - 40_000_000n) // back 40 s ago
    const r = nicReturns({ select: { kind: 'returned' }, returnedAtUsec: monotonicUsec() - 300_000n })
    expect(r.ok).toBe(true)
    const c = readCounters()
    expect(c.problem).toBeNull()
    expect(c.counters.restores).toEqual({ done: 2, failed: 0 })
    expect(c.counters.returnToName.count).toBe(2)
    expect(c.counters.returnToName.counts).toEqual([0, 0, 1, 1, 1, 1, 1, 1]) // 0.3 s and 40 s
    expect(c.counters.returnToName.sum).toBeGreaterThan(40.3)
    expect(c.counters.returnToName.sum).toBeLessThan(45)
  })

  it('no return time known: counted as done, not observed', () => {
    nicReturns({ select: { kind: 'returned' } })
    expect(readCounters().counters.restores.done).toBe(2)
    expect(readCounters().counters.returnToName.count).toBe(0)
  })

  it('a NIC the kernel did not confirm is a failed restore; a refused step makes the run a failed one, counted once', () => {
    kernel.after = [nic(3, 'ens3'), nic(4, 'dev4'), nic(5, 'ens5')]
    kernel.result = { names: { done: [] }, settingErrors: [{ ifindex: 3, message: 'failed to set MTU of "ens3": no' }, { ifindex: 5, message: 'and another' }] }
    nicReturns({ select: { kind: 'returned' } })
    const c = readCounters().counters
    expect(c.restores).toEqual({ done: 1, failed: 1 })
    expect(c.runs).toEqual({ ok: 0, failed: 1 })
    expect(Object.values(c.conflicts).every((n) => n === 0)).toBe(true)
  })

  it('a dry run counts nothing, and a run with nothing to do writes nothing', () => {
    nicReturns({ select: { kind: 'returned' }, dryRun: true })
    expect(readdirSync(process.env.NICBACK_STATE_DIR!)).not.toContain('counters.json')
    kernel.before = kernel.after!
    nicReturns({ select: { kind: 'returned' } })
    expect(readdirSync(process.env.NICBACK_STATE_DIR!)).not.toContain('counters.json')
  })

  it('a corrupt counters file: warned about, the restore goes on, the counters start again', () => {
    writeFileSync(countersPath(), '\u0000garbage', { mode: 0o600 })
    const warnings: string[] = []
    vi.spyOn(log, 'warn').mockImplementation((m) => void warnings.push(m))
    const r = nicReturns({ select: { kind: 'returned' } })
    expect(r.ok).toBe(true)
    expect(warnings).toEqual([expect.stringContaining(countersPath())])
    expect(readCounters().counters.restores.done).toBe(2)
  })
})

describe('renderMetrics', () => {
  it('the gauges from the registry and the links now, the counters from the file', async () => {
    const before = parseExposition(await renderMetrics())
    expect(valueOf(before, 'nicback_nics_recorded')).toBe(4)
    expect(valueOf(before, 'nicback_nics', { state: 'returned_misnamed' })).toBe(2)
    expect(valueOf(before, 'nicback_nics', { state: 'home' })).toBe(1)
    expect(valueOf(before, 'nicback_nics', { state: 'away' })).toBe(1)
    nicReturns({ select: { kind: 'returned' } })
    kernel.before = kernel.after!
    const after = parseExposition(await renderMetrics())
    expect(valueOf(after, 'nicback_nics', { state: 'home' })).toBe(3)
    expect(valueOf(after, 'nicback_restores_total', { result: 'done' })).toBe(2)
  })

  it('an away NIC whose bus position is empty is gone, not away: the gauge an alert on away reads goes back to 0', async () => {
    const away = loadRegistry().nics.find((e) => e.name === 'ens6')!
    kernel.absent.add(away.bus!)
    const m = parseExposition(await renderMetrics())
    expect(valueOf(m, 'nicback_nics', { state: 'away' })).toBe(0)
    expect(valueOf(m, 'nicback_nics', { state: 'gone' })).toBe(1)
    kernel.absent.clear()
  })
})

describe('textfileProblem', () => {
  it('accepts a directory of its own no one else can write; refuses one others can, unless sticky, and there only a file of its own', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nicback-textfile-'))
    try {
      const uid = process.getuid!()
      const file = join(dir, 'nicback.prom')
      chmodSync(dir, 0o755)
      expect(textfileProblem(dir, file, uid)).toBeNull()
      expect(textfileProblem(dir, file, uid + 1)).toMatch(/it belongs to uid .* and it is not sticky/)
      chmodSync(dir, 0o777)
      expect(textfileProblem(dir, file, uid)).toMatch(/others can write it \(mode 0777\) and it is not sticky/)
      chmodSync(dir, 0o1777)
      expect(textfileProblem(dir, file, uid)).toBeNull()
      writeFileSync(file, '')
      expect(textfileProblem(dir, file, uid)).toBeNull()
      rmSync(file)
      symlinkSync('/etc/passwd', file)
      expect(textfileProblem(dir, file, uid)).toMatch(/not a regular file \(a symlink\)/)
    } finally {
      chmodSync(dir, 0o700)
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
