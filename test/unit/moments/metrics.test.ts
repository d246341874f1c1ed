// The metrics moment (moments/metrics.ts): what nicReturns counts, under its
// lock, on the in-memory kernel (test/unit/fake-kernel.ts) with the network
// manager and udev's database stood in for; renderMetrics, the agent's entry
// point; and the textfile's checks.
import { chmodSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { monotonicUsec } from '../../../scripts/lib/facts/udevdb.js'
import { renderMetrics, textfileProblem } from '../../../scripts/lib/moments/metrics.js'
import { nicReturns, type RestoreOptions } from '../../../scripts/lib/moments/return.js'
import { countersPath, readCounters } from '../../../scripts/lib/state/counters.js'
import { loadRegistry, saveRegistry } from '../../../scripts/lib/state/registry.js'
import { log } from '../../../scripts/lib/system/log.js'
import type { Away, Entry } from '../../../scripts/lib/types.js'
import { FakeKernel } from '../fake-kernel.js'
import { parseExposition, valueOf } from '../../promtext.js'
import { entry, link, reg, useTempStateDir } from '../helpers.js'

const udev = vi.hoisted(() => ({ db: new Map<number, bigint>() }))
vi.mock('../../../scripts/lib/apply/notify.js', () => ({ notifyNetworkManagers: vi.fn(() => true) }))
// udev's database of this machine says nothing about the test's NICs.
vi.mock('../../../scripts/lib/facts/udevdb.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../scripts/lib/facts/udevdb.js')>()),
  initializedUsec: (ifindex: number) => udev.db.get(ifindex) ?? null,
  stillWithUdev: () => [],
}))

const pci = (slot: number) => `0000:00:${slot.toString(16).padStart(2, '0')}.0`
const AWAY: Away = { since: '2024-01-01T00:00:00.000Z', via: 'udev', leftAs: 'x' }
const nic = (slot: number, name: string) => link(name, { ifindex: slot, bus: pci(slot), mac: `02:00:00:00:00:${slot.toString(16).padStart(2, '0')}` })
const rec = (slot: number, name: string, o: Partial<Entry> = {}) => entry(name, { ifindex: slot, bus: pci(slot), mac: `02:00:00:00:00:${slot.toString(16).padStart(2, '0')}`, away: { ...AWAY, leftAs: name }, ...o })

let kernel: FakeKernel
const restore = (o: Partial<RestoreOptions> = {}) => nicReturns({ select: { kind: 'returned' }, ...o, kernel })

useTempStateDir()
beforeEach(() => {
  // ens3 and ens4 are back as dev3 and dev4; ens5 is home; ens6 is away, in a container.
  saveRegistry(reg(rec(3, 'ens3'), rec(4, 'ens4'), rec(5, 'ens5', { away: null }), rec(6, 'ens6')))
  kernel = new FakeKernel([nic(3, 'dev3'), nic(4, 'dev4'), nic(5, 'ens5')])
  kernel.add(nic(6, 'eth0'), '/proc/1/fd/9')
  udev.db.clear()
})
afterEach(() => vi.restoreAllMocks())

describe('nicReturns counts', () => {
  it('NICs brought home, and their return-to-name time: their own udev db entry first, else the event', () => {
    udev.db.set(3, monotonicUsec() - 40_000_000n) // back 40 s ago
    const r = restore({ returnedAtUsec: monotonicUsec() - 300_000n })
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
    restore()
    expect(readCounters().counters.restores.done).toBe(2)
    expect(readCounters().counters.returnToName.count).toBe(0)
  })

  it('a NIC the kernel did not confirm is a failed restore; a refused step makes the run a failed one, counted once', () => {
    // the kernel refuses dev4's rename every time: ens3 comes home, ens4 does not
    kernel.opts.failures = [{ match: (c) => c.includes('dev4') && c.includes('name'), errno: 'EOTHER', once: false, text: 'RTNETLINK answers: Operation not permitted' }]
    restore()
    const c = readCounters().counters
    expect(c.restores).toEqual({ done: 1, failed: 1 })
    expect(c.runs).toEqual({ ok: 0, failed: 1 })
    expect(Object.values(c.conflicts).every((n) => n === 0)).toBe(true)
  })

  it('a dry run counts nothing, and a run with nothing to do writes nothing', () => {
    restore({ dryRun: true })
    expect(readdirSync(process.env.NICBACK_STATE_DIR!)).not.toContain('counters.json')
    expect(kernel.calls).toEqual([])
    kernel.dev('dev3')!.name = 'ens3'
    kernel.dev('dev4')!.name = 'ens4'
    restore()
    expect(readdirSync(process.env.NICBACK_STATE_DIR!)).not.toContain('counters.json')
  })

  it('a corrupt counters file: warned about, the restore goes on, the counters start again', () => {
    writeFileSync(countersPath(), '\u0000garbage', { mode: 0o600 })
    const warnings: string[] = []
    vi.spyOn(log, 'warn').mockImplementation((m) => void warnings.push(m))
    const r = restore()
    expect(r.ok).toBe(true)
    expect(warnings).toEqual([expect.stringContaining(countersPath())])
    expect(readCounters().counters.restores.done).toBe(2)
  })
})

describe('renderMetrics', () => {
  it('the gauges from the registry and the links now, the counters from the file', async () => {
    const before = parseExposition(await renderMetrics(undefined, kernel))
    expect(valueOf(before, 'nicback_nics_recorded')).toBe(4)
    expect(valueOf(before, 'nicback_nics', { state: 'returned_misnamed' })).toBe(2)
    expect(valueOf(before, 'nicback_nics', { state: 'home' })).toBe(1)
    expect(valueOf(before, 'nicback_nics', { state: 'away' })).toBe(1)
    restore()
    const after = parseExposition(await renderMetrics(undefined, kernel))
    expect(valueOf(after, 'nicback_nics', { state: 'home' })).toBe(3)
    expect(valueOf(after, 'nicback_restores_total', { result: 'done' })).toBe(2)
  })

  it('an away NIC whose bus position is empty is gone, not away: the gauge an alert on away reads goes back to 0', async () => {
    expect(valueOf(parseExposition(await renderMetrics(undefined, kernel)), 'nicback_nics', { state: 'away' })).toBe(1)
    // the container's VF destroyed (sriov_numvfs lowered): no device at its bus
    expect(loadRegistry().nics.find((e) => e.name === 'ens6')!.bus).toBe(pci(6))
    kernel.spaces.set('/proc/1/fd/9', [])
    const m = parseExposition(await renderMetrics(undefined, kernel))
    expect(valueOf(m, 'nicback_nics', { state: 'away' })).toBe(0)
    expect(valueOf(m, 'nicback_nics', { state: 'gone' })).toBe(1)
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
