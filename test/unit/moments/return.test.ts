// Moment two: which misnamed NICs a run brings home (wanted), what a run
// does and reports, on the in-memory kernel (test/unit/fake-kernel.ts) with
// the network manager and udev's database stood in for (the registry is a
// real file in a temporary directory), and how a report is logged
// (logReport).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { notifyNetworkManagers } from '../../../scripts/lib/apply/notify.js'
import { nicsWithUdev, stillWithUdev } from '../../../scripts/lib/facts/udevdb.js'
import { carriedOut, logReport, nicReturns, udevSettles, udevWait, wanted, type RestoreReport, type Selection } from '../../../scripts/lib/moments/return.js'
import { loadRegistry, saveRegistry } from '../../../scripts/lib/state/registry.js'
import { log } from '../../../scripts/lib/system/log.js'
import type { Away, Entry, Link } from '../../../scripts/lib/types.js'
import { FakeKernel } from '../fake-kernel.js'
import { entry, link, reg, useTempStateDir } from '../helpers.js'

vi.mock('../../../scripts/lib/apply/notify.js', () => ({ notifyNetworkManagers: vi.fn(() => true) }))
// udev's database of this machine says nothing about the test's NICs.
vi.mock('../../../scripts/lib/facts/udevdb.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../scripts/lib/facts/udevdb.js')>()),
  initializedUsec: () => null,
  stillWithUdev: vi.fn(() => []),
  nicsWithUdev: vi.fn(() => []),
}))

let kernel: FakeKernel
/** The command that does `what` to device `dev`. */
const is = (what: string, dev: string) => (cmd: string[]) => cmd[cmd.indexOf('dev') + 1] === dev && cmd.includes(what)

const pci = (slot: number) => `0000:00:${slot.toString(16).padStart(2, '0')}.0`
const AWAY: Away = { since: '2024-01-01T00:00:00.000Z', via: 'udev', leftAs: 'x' }
/** The NIC in PCI slot `slot`, now called `name`. */
const nic = (slot: number, name: string, o: Partial<Link> = {}) => link(name, { ifindex: slot, bus: pci(slot), ...o })
/** Its entry, recorded as `name`; away unless told otherwise. */
const rec = (slot: number, name: string, o: Partial<Entry> = {}) => entry(name, { ifindex: slot, bus: pci(slot), away: { ...AWAY, leftAs: name }, ...o })

// ---------------------------------------------------------------- wanted

describe('wanted', () => {
  const away = rec(3, 'ens3')
  const home = rec(3, 'ens3', { away: null })

  it('returned: a NIC seen leaving, or one under a kernel fallback or nicback temporary name', () => {
    const w = wanted({ kind: 'returned' })
    expect(w(away, nic(3, 'eth0'))).toBe(true)
    expect(w(home, nic(3, 'dev3'))).toBe(true)
    expect(w(home, nic(3, 'nbtmp3'))).toBe(true)
    expect(w(home, nic(3, 'nbt3x1'))).toBe(true)
    // renamed on the host by an admin, never seen leaving: left alone
    expect(w(home, nic(3, 'lan0'))).toBe(false)
  })

  it('all: every recorded NIC, whatever its name', () => {
    const w = wanted({ kind: 'all' })
    expect(w(home, nic(3, 'lan0'))).toBe(true)
    expect(w(away, nic(3, 'eth0'))).toBe(true)
  })

  it('names: by recorded name or by current name, no other', () => {
    const w = wanted({ kind: 'names', names: ['ens3', 'lan1'] })
    expect(w(home, nic(3, 'lan0'))).toBe(true) // recorded as ens3
    expect(w(rec(4, 'ens4', { away: null }), nic(4, 'lan1'))).toBe(true) // called lan1 now
    expect(w(rec(4, 'ens4'), nic(4, 'dev4'))).toBe(false) // away, fallback name: not asked for
    expect(wanted({ kind: 'names', names: [] })(away, nic(3, 'eth0'))).toBe(false)
  })
})

// ---------------------------------------------------------------- summarize, through nicReturns

describe('nicReturns: the report (summarize)', () => {
  const saved = process.env.NICBACK_STATE_DIR
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nicback-return-'))
    process.env.NICBACK_STATE_DIR = dir
    // ens3 is back as dev3; ens4 is home; ens5 is away; eth9 was renamed lan9 on the host.
    saveRegistry(reg(rec(3, 'ens3'), rec(4, 'ens4', { away: null }), rec(5, 'ens5'), rec(9, 'eth9', { away: null })))
    kernel = new FakeKernel([nic(3, 'dev3'), nic(4, 'ens4'), nic(9, 'lan9')])
    vi.mocked(notifyNetworkManagers).mockClear()
  })
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
    if (saved === undefined) delete process.env.NICBACK_STATE_DIR
    else process.env.NICBACK_STATE_DIR = saved
  })
  const run = (select: Selection, dryRun = false) => nicReturns({ select, dryRun, kernel })
  const rows = (r: RestoreReport) => r.nics.map((n) => [n.name, n.outcome, n.was, n.now, n.home])

  it('a dry run: every NIC, home only if it already is, ok when what returned would be restored; nothing written or told', () => {
    const r = run({ kind: 'returned' }, true)
    expect(r.dryRun).toBe(true)
    expect(r.steps).toEqual([{ op: 'rename', description: 'rename "dev3" to "ens3"' }])
    expect(rows(r)).toEqual([
      ['ens3', 'restore', 'dev3', 'dev3', false],
      ['ens4', 'home', 'ens4', 'ens4', true],
      ['ens5', 'away', null, null, false],
      ['eth9', 'skipped', 'lan9', 'lan9', false],
    ])
    expect(r.errors).toEqual([])
    expect(r.ok).toBe(true)
    expect(r.ms).toBeGreaterThanOrEqual(0)
    expect(loadRegistry().nics.find((e) => e.name === 'ens3')!.away).not.toBeNull()
    expect(notifyNetworkManagers).not.toHaveBeenCalled()
  })

  it('all: the renamed NIC is asked for too; a NIC that is away does not make it fail', () => {
    const r = run({ kind: 'all' }, true)
    expect(rows(r).map(([name, outcome]) => [name, outcome])).toEqual([
      ['ens3', 'restore'],
      ['ens4', 'home'],
      ['ens5', 'away'],
      ['eth9', 'restore'],
    ])
    expect(r.steps.map((s) => s.description)).toEqual(expect.arrayContaining(['rename "dev3" to "ens3"', 'rename "lan9" to "eth9"']))
    expect(r.ok).toBe(true)
    expect(r.errors).toEqual([])
  })

  it('names: only the NICs asked for, by recorded or current name', () => {
    const r = run({ kind: 'names', names: ['dev3'] }, true)
    expect(rows(r)).toEqual([['ens3', 'restore', 'dev3', 'dev3', false]])
    expect(r.ok).toBe(true)
    expect(run({ kind: 'names', names: ['ens4'] }, true)).toMatchObject({ ok: true, errors: [], steps: [], nics: [{ name: 'ens4', outcome: 'home', home: true }] })
  })

  it('names: one not recorded, one still away: each an error, not ok', () => {
    const r = run({ kind: 'names', names: ['ens5', 'nope'] }, true)
    expect(rows(r)).toEqual([['ens5', 'away', null, null, false]])
    expect(r.ok).toBe(false)
    expect(r.errors).toEqual([
      'nope is not a recorded NIC (see "nicback status"; record it with "nicback record nope")',
      'ens5 is not back in this network namespace (left as ens5 via udev at 2024-01-01T00:00:00.000Z): nicback gives it its name when it returns, or use "nicback release ens5"',
    ])
  })

  it('applied: home only when the kernel, read back, says so; recorded as home and the network manager told', () => {
    const r = run({ kind: 'returned' })
    expect(kernel.where()).toEqual({ 3: 'ens3', 4: 'ens4', 9: 'lan9' })
    expect(r.dryRun).toBe(false)
    expect(rows(r)).toEqual([
      ['ens3', 'restore', 'dev3', 'ens3', true],
      ['ens4', 'home', 'ens4', 'ens4', true],
      ['ens5', 'away', null, null, false],
      ['eth9', 'skipped', 'lan9', 'lan9', false],
    ])
    expect(r.ok).toBe(true)
    expect(loadRegistry().nics.map((e) => [e.name, e.away === null])).toEqual([
      ['ens3', true],
      ['ens4', true],
      ['ens5', false],
      ['eth9', true],
    ])
    expect(notifyNetworkManagers).toHaveBeenCalledTimes(1)
    expect(notifyNetworkManagers).toHaveBeenCalledWith('ens3')
  })

  it('applied, but the kernel still shows the old name: not home, not ok, still away', () => {
    // something renames it back as soon as nicback's batch is done
    kernel.afterBatch = () => {
      const d = kernel.dev('ens3')
      if (d) d.name = 'dev3'
    }
    const r = run({ kind: 'returned' })
    expect(rows(r)[0]).toEqual(['ens3', 'restore', 'dev3', 'dev3', false])
    expect(r.ok).toBe(false)
    expect(loadRegistry().nics[0]!.away).not.toBeNull()
    expect(notifyNetworkManagers).not.toHaveBeenCalled()
  })

  it("the executor's errors come first in the report, and make it fail", () => {
    saveRegistry(reg(rec(3, 'ens3', { mtu: 9000 }), rec(4, 'ens4', { away: null }), rec(5, 'ens5'), rec(9, 'eth9', { away: null })))
    kernel.opts.failures = [{ match: is('mtu', 'ens3'), errno: 'EOTHER', text: 'no' }]
    const r = run({ kind: 'names', names: ['ens3', 'nope'] })
    expect(r.errors).toEqual(['failed to set MTU of "ens3" to 9000 (was 1500): no', 'nope is not a recorded NIC (see "nicback status"; record it with "nicback record nope")'])
    expect(r.ok).toBe(false)
  })

  it('a failed rename, undone: says nothing is half-renamed', () => {
    // udev's altname sits on the name: dropped first, then the rename fails, every time
    kernel.dev('dev3')!.altnames.push('ens3')
    kernel.opts.failures = [{ match: is('name', 'dev3'), errno: 'EEXIST', once: false, text: 'File exists' }]
    const r = run({ kind: 'returned' })
    expect(kernel.dev('dev3')!.altnames).toEqual(['ens3'])
    expect(r.errors).toHaveLength(2)
    expect(r.errors[0]).toBe('failed to rename "dev3" to "ens3": File exists')
    expect(r.errors[1]).toMatch(/undone; nothing is half-renamed$/)
    expect(r.ok).toBe(false)
  })

  it('a failed rename whose undo failed too: says what is left half-done, and that the next run finishes it', () => {
    // ens3 and ens4 came back under each other's names: a swap through nbtmp3
    saveRegistry(reg(rec(3, 'ens3'), rec(4, 'ens4')))
    kernel = new FakeKernel([nic(3, 'ens4'), nic(4, 'ens3')], {
      failures: [
        { match: is('name', 'ens3'), errno: 'EEXIST', text: 'File exists' },
        { match: (c) => is('name', 'nbtmp3')(c) && c.at(-1) === 'ens4', errno: 'EBUSY', text: 'undo failed' },
      ],
    })
    const r = run({ kind: 'returned' })
    expect(r.errors[0]).toBe('failed to rename "ens3" to "ens4": File exists')
    expect(r.errors[1]).toBe('undo of "rename "ens4" to "nbtmp3" (temporary, to break a cycle)" failed: undo failed')
    expect(r.errors[2]).toMatch(/^left half-done: ens4 \(ifindex 3\) is left as nbtmp3; the next run .* finishes it$/)
    expect(kernel.where()).toEqual({ 3: 'nbtmp3', 4: 'ens3' })
    expect(r.ok).toBe(false)
  })
})

// ---------------------------------------------------------------- logReport

describe('logReport', () => {
  afterEach(() => vi.restoreAllMocks())

  function logged(r: RestoreReport): string[] {
    const lines: string[] = []
    vi.spyOn(log, 'info').mockImplementation((m) => void lines.push(`info: ${m}`))
    vi.spyOn(log, 'warn').mockImplementation((m) => void lines.push(`warn: ${m}`))
    vi.spyOn(log, 'error').mockImplementation((m) => void lines.push(`error: ${m}`))
    logReport(r)
    return lines
  }
  const nic = (name: string, outcome: RestoreReport['nics'][number]['outcome'], o: Partial<RestoreReport['nics'][number]> = {}) => ({
    name,
    ifindex: 3,
    now: name,
    was: name,
    outcome,
    reason: `why ${name}`,
    settings: false,
    home: outcome === 'home',
    source: 'registry' as const,
    ...o,
  })
  const report = (o: Partial<RestoreReport>): RestoreReport => ({ dryRun: false, steps: [], nics: [], errors: [], ok: true, ms: 12, ...o })
  const steps = [
    { op: 'rename' as const, description: 'rename "dev3" to "ens3"' },
    { op: 'up' as const, description: 'set "ens3" up' },
  ]

  it('one line for the steps, one per NIC restored or not, one per error; home, away and skipped NICs say nothing', () => {
    expect(
      logged(
        report({
          steps,
          nics: [
            nic('ens3', 'restore', { was: 'dev3', home: true }),
            nic('ens4', 'restore', { was: 'dev4', now: 'dev4', home: false }),
            nic('ens5', 'conflict', { now: 'dev5' }),
            nic('ens6', 'ambiguous', { now: null }),
            nic('ens7', 'home'),
            nic('ens8', 'away', { now: null }),
            nic('ens9', 'skipped'),
          ],
          errors: ['failed to set "ens3" up: no'],
          ok: false,
        }),
      ),
    ).toEqual([
      'info: ran in 12 ms: rename "dev3" to "ens3"; set "ens3" up',
      'info: restored ens3: why ens3',
      'info: failed to restore ens4: why ens4',
      'warn: cannot restore ens5 (now dev5): why ens5',
      'warn: cannot restore ens6 (now away): why ens6',
      'error: failed to set "ens3" up: no',
    ])
  })

  it('a dry run says what it would do', () => {
    expect(logged(report({ dryRun: true, steps: steps.slice(0, 1), nics: [nic('ens3', 'restore', { was: 'dev3', now: 'dev3', home: false })] }))).toEqual(['info: would run in 12 ms: rename "dev3" to "ens3"', 'info: would restore ens3: why ens3'])
  })

  it('nothing to do: silent', () => {
    expect(logged(report({ nics: [nic('ens3', 'home')] }))).toEqual([])
  })

  it('goes to stderr as "nicback: ..." lines, with the fields the sentence does not say', () => {
    const out: string[] = []
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (out.push(String(s)), true))
    logReport(report({ nics: [nic('ens5', 'conflict', { now: 'dev5' })], errors: ['boom'] }))
    expect(out.join('')).toBe('nicback: warning: cannot restore ens5 (now dev5): why ens5 [fix="free the name (rename the device that holds it), then \\"nicback restore\\""]\nnicback: error: boom\n')
  })
})

describe('carriedOut: a run planned again after a lost race', () => {
  const dec = (name: string, outcome: 'home' | 'restore' | 'conflict', ifindex: number) => ({ name, ifindex, now: outcome === 'home' ? name : `dev${ifindex}`, outcome, reason: outcome, settings: false })
  const rename = (ifindex: number, to: string) => ({ op: 'rename' as const, ifindex, from: `dev${ifindex}`, to, temporary: false })
  // attempt 1 renamed eth1 and lost eth2's race (its group undone); attempt 2
  // finds eth1 home and renames eth2
  const first = { names: [rename(1, 'eth1'), rename(2, 'eth2')], settings: [], decisions: [dec('eth1', 'restore', 1), dec('eth2', 'restore', 2), dec('eth3', 'home', 3)] }
  const second = { names: [rename(2, 'eth2')], settings: [], decisions: [dec('eth1', 'home', 1), dec('eth2', 'restore', 2), dec('eth3', 'home', 3)] }

  it("keeps the decision and steps of the attempt that brought a NIC home, and the last attempt's for the others", () => {
    const p = carriedOut([first, second])
    expect(p.decisions.map((d) => d.outcome)).toEqual(['restore', 'restore', 'home'])
    expect(p.names).toEqual([rename(1, 'eth1'), rename(2, 'eth2')])
  })

  it('a NIC the later attempt finds home with its settings to check (its entry still says away) is still the one the earlier attempt restored', () => {
    const homeAway = { ...dec('eth1', 'home', 1), settings: true }
    const later = { ...second, decisions: [homeAway, dec('eth2', 'restore', 2), dec('eth3', 'home', 3)] }
    const p = carriedOut([first, later])
    expect(p.decisions[0]).toMatchObject({ outcome: 'restore', now: 'dev1', settings: true })
    expect(p.decisions.map((d) => d.outcome)).toEqual(['restore', 'restore', 'home'])
  })

  it('one attempt: its plan as it is', () => {
    expect(carriedOut([first])).toEqual(first)
  })

  it('a NIC the last attempt cannot restore keeps that outcome', () => {
    const third = { ...second, names: [], decisions: [dec('eth1', 'home', 1), dec('eth2', 'conflict', 2), dec('eth3', 'home', 3)] }
    expect(carriedOut([first, third]).decisions.map((d) => d.outcome)).toEqual(['restore', 'conflict', 'home'])
  })
})

// Issue 16: the next pod's ADD takes a VF while a run is bringing it home.
describe('nicReturns: a NIC that leaves the host during the run', () => {
  useTempStateDir()
  beforeEach(() => {
    saveRegistry(reg(rec(3, 'ens3'), rec(4, 'ens4')))
    kernel = new FakeKernel([nic(3, 'dev3'), nic(4, 'dev4')])
    vi.mocked(notifyNetworkManagers).mockClear()
  })

  /** A new pod takes dev3/ens3: it leaves the host for a container. */
  const podTakes = (ifindex: number) => () =>
    kernel.spaces.set(
      '/proc/2/fd/9',
      kernel.space('').splice(
        kernel.space('').findIndex((d) => d.ifindex === ifindex),
        1,
      ),
    )

  it('has left right after its rename: not an error, not a failed restore; logged as such; the other NIC is brought home', () => {
    let taken = false
    kernel.afterBatch = () => {
      if (!taken) podTakes(3)()
      taken = true
    }
    const info = vi.spyOn(log, 'info').mockImplementation(() => {})
    const error = vi.spyOn(log, 'error').mockImplementation(() => {})
    try {
      const r = nicReturns({ select: { kind: 'returned' }, kernel })
      expect(r.errors).toEqual([])
      expect(r.ok).toBe(true)
      const ens3 = r.nics.find((n) => n.name === 'ens3')!
      expect(ens3).toMatchObject({ outcome: 'away', was: 'dev3', now: null, home: false, leftDuringRun: true })
      expect(r.nics.find((n) => n.name === 'ens4')).toMatchObject({ outcome: 'restore', home: true })
      logReport(r)
      expect(error).not.toHaveBeenCalled()
      expect(info.mock.calls.map((c) => c[0])).toContain('ens3 (was dev3) left the host again while nicback brought it home (a container took it): its departure is recorded; nothing failed')
      expect(loadRegistry().nics.find((e) => e.name === 'ens3')!.away).not.toBeNull()
      expect(loadRegistry().nics.find((e) => e.name === 'ens4')!.away).toBeNull()
      expect(notifyNetworkManagers).toHaveBeenCalledWith('ens4')
      expect(notifyNetworkManagers).not.toHaveBeenCalledWith('ens3')
    } finally {
      info.mockRestore()
      error.mockRestore()
    }
  })

  it('has left before its rename ("Cannot find device"): planned again without it; not an error; the other NIC is brought home', () => {
    kernel.opts.failures = [{ match: is('name', 'dev3'), errno: 'ENODEV', then: podTakes(3) }]
    const error = vi.spyOn(log, 'error').mockImplementation(() => {})
    const r = nicReturns({ select: { kind: 'returned' }, kernel })
    expect(r.errors).toEqual([])
    expect(r.ok).toBe(true)
    expect(r.nics.find((n) => n.name === 'ens3')).toMatchObject({ outcome: 'away', now: null, home: false })
    expect(r.nics.find((n) => n.name === 'ens4')).toMatchObject({ outcome: 'restore', home: true })
    logReport(r)
    expect(error).not.toHaveBeenCalled()
    expect(loadRegistry().nics.find((e) => e.name === 'ens3')!.away).not.toBeNull()
    expect(loadRegistry().nics.find((e) => e.name === 'ens4')!.away).toBeNull()
  })

  it('a failure on a device still on the host stays an error', () => {
    kernel.opts.failures = [{ match: is('name', 'dev3'), errno: 'EOTHER', once: false, text: 'Operation not permitted' }]
    const r = nicReturns({ select: { kind: 'returned' }, kernel })
    expect(r.errors).toEqual(['failed to rename "dev3" to "ens3": Operation not permitted'])
    expect(r.ok).toBe(false)
    expect(r.nics.find((n) => n.name === 'ens3')).toMatchObject({ outcome: 'restore', home: false })
  })
})

describe('nicReturns: a device someone else renamed between the plan and the rename', () => {
  useTempStateDir()
  beforeEach(() => {
    saveRegistry(reg(rec(3, 'ens3')))
  })

  // LXC renames a phys NIC it hands back (physXXXXXX, then its host name):
  // a plan made before that finds the device renamed. New facts: plan again.
  it('is planned again from fresh facts; nothing is reported as failed', () => {
    kernel = new FakeKernel([nic(3, 'physAbC123')])
    const read = kernel.links.bind(kernel)
    let reads = 0
    kernel.links = () => {
      const links = read()
      // LXC renames it to its host name right after nicback's first read
      if (++reads === 1) kernel.dev('physAbC123')!.name = 'ens3'
      return links
    }
    const r = nicReturns({ select: { kind: 'returned' }, kernel })
    expect(reads).toBe(2)
    expect(kernel.calls.flatMap((c) => c.cmds).filter((c) => c.includes('name'))).toEqual([])
    expect(r.errors).toEqual([])
    expect(r.ok).toBe(true)
    expect(loadRegistry().nics[0]!.away).toBeNull()
  })
})

describe('nicReturns on a kernel before 6.2 (EBUSY for renaming a device that is up)', () => {
  useTempStateDir()

  it('is planned again the old way (down, rename, up), and the kernel port keeps what it learned', () => {
    saveRegistry(reg(rec(3, 'ens3')))
    const fake = new FakeKernel([nic(3, 'dev3', { up: true })], { renameOnlyDown: true })
    const r = nicReturns({ select: { kind: 'returned' }, kernel: fake })
    expect(r.errors).toEqual([])
    expect(r.ok).toBe(true)
    expect(fake.renameWhileUp).toBe(false)
    expect(fake.dev('ens3')).toMatchObject({ ifindex: 3, up: true })
    // tried while up (EBUSY), then down / rename / up
    expect(fake.calls.map((c) => c.cmds.map((x) => x.slice(4).join(' ')))).toEqual([['name ens3'], ['down', 'name ens3', 'up']])
    // the next run on this kernel plans the old way at once
    saveRegistry(reg(rec(3, 'ens3')))
    fake.dev('ens3')!.name = 'dev3'
    fake.calls.length = 0
    expect(nicReturns({ select: { kind: 'returned' }, kernel: fake }).ok).toBe(true)
    expect(fake.calls).toHaveLength(1)
  })
})

// ---------------------------------------------------------------- udevWait

describe('udevWait: never racing udevd, never waiting for what cannot come', () => {
  const saved = process.env.NICBACK_STATE_DIR
  let dir: string
  /** ifindex -> how many more looks udevd still has it for (Infinity: for good). */
  let busyFor: Map<number, number>
  const lines: string[] = []
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nicback-udevwait-'))
    process.env.NICBACK_STATE_DIR = dir
    saveRegistry(reg(rec(3, 'ens3'), rec(4, 'ens4')))
    kernel = new FakeKernel([nic(3, 'dev3'), nic(4, 'dev4')])
    busyFor = new Map()
    vi.mocked(stillWithUdev).mockImplementation((ids) =>
      [...new Set(ids)].filter((i) => {
        const n = busyFor.get(i) ?? 0
        if (n > 0) busyFor.set(i, n - 1)
        return n > 0
      }),
    )
    lines.length = 0
    for (const level of ['debug', 'info', 'warn', 'error'] as const) vi.spyOn(log, level).mockImplementation((m) => void lines.push(`${level}: ${m}`))
  })
  afterEach(() => {
    vi.mocked(stillWithUdev).mockImplementation(() => [])
    vi.mocked(nicsWithUdev).mockImplementation(() => [])
    vi.restoreAllMocks()
    rmSync(dir, { recursive: true, force: true })
    if (saved === undefined) delete process.env.NICBACK_STATE_DIR
    else process.env.NICBACK_STATE_DIR = saved
  })
  const renames = () => kernel.calls.map((c) => c.cmds.filter((cmd) => cmd.includes('name')).map((cmd) => cmd[cmd.indexOf('dev') + 1]))

  it('while udevd works through the NICs, waits and renames them all in one batch', () => {
    busyFor.set(4, 3) // done with dev4 after ~60 ms: no pause
    const r = nicReturns({ select: { kind: 'returned' }, kernel })
    expect(r.ok).toBe(true)
    expect(kernel.where()).toEqual({ 3: 'ens3', 4: 'ens4' })
    expect(renames().filter((x) => x.length > 0)).toEqual([['dev3', 'dev4']])
    expect(lines.filter((l) => l.startsWith('warn'))).toEqual([])
  })

  it('when udevd pauses on one NIC, brings home at once those it is done with, then the slow one when udevd finishes it', () => {
    busyFor.set(4, 40) // ~800 ms: past the pause
    const r = nicReturns({ select: { kind: 'returned' }, kernel })
    expect(r.ok).toBe(true)
    expect(kernel.where()).toEqual({ 3: 'ens3', 4: 'ens4' })
    // dev3 in a batch of its own, before udevd was done with dev4
    expect(renames().filter((x) => x.length > 0)).toEqual([['dev3'], ['dev4']])
    expect(r.nics.map((n) => [n.name, n.outcome, n.home])).toEqual([
      ['ens3', 'restore', true],
      ['ens4', 'restore', true],
    ])
    expect(lines.filter((l) => l.startsWith('debug: waited'))).toEqual([expect.stringMatching(/^debug: waited \d+ ms for udevd to finish with ifindex 4$/)])
    expect(lines.filter((l) => l.startsWith('warn'))).toEqual([])
  })

  it("never waits for the device of the udev event it runs for (udevd holds that device's next event until it exits): left to that event's run", () => {
    busyFor.set(4, Infinity)
    const t0 = performance.now()
    const r = nicReturns({ select: { kind: 'returned' }, kernel, udevEvent: { ifindex: 4 } })
    expect(performance.now() - t0).toBeLessThan(2000)
    expect(kernel.where()).toEqual({ 3: 'ens3', 4: 'dev4' })
    expect(r.ok).toBe(true)
    expect(r.errors).toEqual([])
    expect(loadRegistry().nics.find((e) => e.name === 'ens4')!.away).not.toBeNull()
    expect(lines.filter((l) => l.startsWith('warn'))).toEqual([])
    expect(lines).toContain("debug: udevd holds the next event of ifindex 4 until the event this process runs for ends: left to that event's own run")
  })

  it('a run planned again (a rename that lost a race) still leaves the device of its own event alone', () => {
    busyFor.set(4, Infinity)
    kernel = new FakeKernel([nic(3, 'dev3'), nic(4, 'dev4')], { failures: [{ match: is('name', 'dev3'), errno: 'EEXIST' }] })
    const r = nicReturns({ select: { kind: 'returned' }, kernel, udevEvent: { ifindex: 4 } })
    expect(r.ok).toBe(true)
    expect(kernel.where()).toEqual({ 3: 'ens3', 4: 'dev4' })
    expect(kernel.calls.flatMap((c) => c.cmds).filter((cmd) => cmd.includes('dev4'))).toEqual([])
  })

  it('its own device udevd is done with is brought home as any other', () => {
    const r = nicReturns({ select: { kind: 'returned' }, kernel, udevEvent: { ifindex: 4 } })
    expect(r.ok).toBe(true)
    expect(kernel.where()).toEqual({ 3: 'ens3', 4: 'ens4' })
  })

  it('past its cap it goes ahead, with a warning naming what udevd still had', () => {
    busyFor.set(4, Infinity)
    const plan = (leave: ReadonlySet<number>) => ({ names: [...(leave.has(4) ? [] : [{ op: 'rename' as const, ifindex: 4, from: 'dev4', to: 'ens4', temporary: false }])], settings: [], decisions: [] })
    const applied: number[][] = []
    const out = udevWait(plan(new Set()), null, { plan, apply: (p) => (applied.push(p.names.map((s) => s.ifindex)), { names: { done: [] }, settingErrors: [] }) }, 100)
    expect(out.plan.names.map((s) => s.ifindex)).toEqual([4])
    expect(applied).toEqual([])
    expect(lines).toEqual(['warn: udevd still has ifindex 4 after 100 ms: going ahead', expect.stringMatching(/^debug: waited \d+ ms for udevd to finish with ifindex 4$/)])
  })

  const NONE: ReadonlySet<number> = new Set()
  describe('udevSettles: before anything is read, udevd names the NICs coming back', () => {
    /** udevd names the NICs on a bus in `busyFor`; `later` come back once those are done. */
    const naming = (later: number[] = []) => {
      let back = false
      vi.mocked(nicsWithUdev).mockImplementation(() => {
        const now = [...busyFor].filter(([, n]) => n > 0).map(([i]) => i)
        if (now.length === 0 && !back && later.length > 0) {
          back = true
          for (const i of later) busyFor.set(i, 2)
          return later
        }
        return now
      })
    }

    it('the links are read only once udevd is done naming, NICs that came back meanwhile included: one batch', () => {
      busyFor.set(3, 2).set(4, 4)
      naming([5])
      kernel = new FakeKernel([nic(3, 'dev3'), nic(4, 'dev4')])
      const reads: number[][] = []
      const links = kernel.links.bind(kernel)
      kernel.links = () => (reads.push([...busyFor.values()]), links())
      const r = nicReturns({ select: { kind: 'returned' }, kernel })
      expect(r.ok).toBe(true)
      expect(reads.length).toBeGreaterThan(0)
      expect(reads.every((left) => left.every((n) => n === 0))).toBe(true)
      expect(renames().filter((x) => x.length > 0)).toEqual([['dev3', 'dev4']])
      expect(lines.filter((l) => l.startsWith('debug: waited'))).toEqual([expect.stringMatching(/^debug: waited \d+ ms for udevd to name NICs \(ifindex 3, 4, 5\) before reading the links$/)])
    })

    it('never waits for the device of its own udev event', () => {
      busyFor.set(4, Infinity)
      naming()
      const t0 = performance.now()
      udevSettles(4)
      expect(performance.now() - t0).toBeLessThan(100)
      expect(lines).toEqual([])
    })

    it('goes on when udevd pauses (none finished for a while), saying what udevd still has', () => {
      busyFor.set(3, 1).set(4, Infinity)
      naming()
      const t0 = performance.now()
      expect([...udevSettles(null, 10_000, 200)]).toEqual([4])
      const ms = performance.now() - t0
      expect(ms).toBeGreaterThanOrEqual(200)
      expect(ms).toBeLessThan(3000)
      expect(lines).toEqual([expect.stringMatching(/^debug: waited \d+ ms for udevd to name NICs \(ifindex 3, 4\) before reading the links; it still has 4$/)])
    })

    it('a NIC udevd still named when the links were read: once it is done, the plan is made again from links read then', () => {
      const fresh: boolean[] = []
      const step = { op: 'rename' as const, ifindex: 4, from: 'dev4', to: 'ens4', temporary: false }
      const plan = (_: ReadonlySet<number>, f: boolean) => (fresh.push(f), { names: [step], settings: [], decisions: [] })
      const apply = () => ({ names: { done: [] }, settingErrors: [] })
      udevWait(plan(NONE, false), null, { plan, apply, stale: new Set([4]) })
      expect(fresh).toEqual([false, true])
      // udevd had only others: the plan stands
      fresh.length = 0
      udevWait(plan(NONE, false), null, { plan, apply, stale: new Set([7]) })
      expect(fresh).toEqual([false])
    })

    it('a dry run waits for nothing', () => {
      busyFor.set(3, Infinity)
      naming()
      const t0 = performance.now()
      nicReturns({ select: { kind: 'returned' }, kernel, dryRun: true })
      expect(performance.now() - t0).toBeLessThan(250)
    })
  })
})
