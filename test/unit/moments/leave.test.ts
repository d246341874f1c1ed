// Moment one: a NIC leaves. nicLeaves writes the departure to the registry
// file and logs it.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { nicLeaves, notOnHost } from '../../../scripts/lib/moments/leave.js'
import { loadRegistry, saveRegistry } from '../../../scripts/lib/state/registry.js'
import { busEntry as entry, dep, link, reg, T0 } from '../helpers.js'

describe('nicLeaves', () => {
  const saved = process.env.NICBACK_STATE_DIR
  let dir: string | undefined
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
    if (saved === undefined) delete process.env.NICBACK_STATE_DIR
    else process.env.NICBACK_STATE_DIR = saved
    vi.restoreAllMocks()
  })

  it('writes the departure to the registry file and logs it', () => {
    dir = mkdtempSync(join(tmpdir(), 'nicback-leave-'))
    process.env.NICBACK_STATE_DIR = dir
    saveRegistry(reg(entry('eth2')))
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const n = nicLeaves(dep('dev3'))
    expect(n.recordedName).toBe('eth2')
    const [e] = loadRegistry().nics
    expect(e).toMatchObject({ name: 'eth2', away: { via: 'udev', leftAs: 'dev3' } })
    expect(Date.parse(e!.away!.since)).toBeGreaterThan(Date.parse(T0))
    expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain('nicback: eth2 (bus 0000:00:03.0) left the host (udev) (left as dev3, keeping the recorded name)')
  })
})

describe('notOnHost', () => {
  it('lists the NICs to give that are not on the host under their name', () => {
    expect(notOnHost([{ host: 'eth1' }, { host: 'eth9', inside: 'net0' }], [link('eth1'), link('eth2')])).toEqual([{ host: 'eth9', inside: 'net0' }])
  })
})
