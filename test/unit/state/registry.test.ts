// The registry file: schema, atomic writes, mode, refusal to overwrite what it
// cannot read. (The flock across real processes: test/cli/lock.test.ts.)
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { NicbackError } from '../../../scripts/lib/system/errors.js'
import { emptyRegistry, loadRegistry, putEntry, registryPath, saveRegistry, updateRegistry } from '../../../scripts/lib/state/registry.js'
import type { Registry } from '../../../scripts/lib/types.js'
import { registryEntry as entry, useTempStateDir } from '../helpers.js'

const state = useTempStateDir()

function expectRegistryError(fn: () => unknown, ...patterns: RegExp[]): NicbackError {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(NicbackError)
  expect(err).toMatchObject({ code: 'registry' })
  for (const p of patterns) expect((err as Error).message).toMatch(p)
  return err as NicbackError
}

describe('registry file', () => {
  it('lives in NICBACK_STATE_DIR', () => {
    expect(registryPath()).toBe(join(state.dir, 'registry.json'))
  })

  it('reads as empty when it does not exist yet', () => {
    expect(loadRegistry()).toEqual(emptyRegistry())
  })

  it('round-trips every field, as a 0600 file, with no temporary file left behind', () => {
    const reg: Registry = {
      ...emptyRegistry(),
      nics: [
        entry('eth0'),
        entry('eth1', {
          bus: null,
          permAddr: '00:1b:21:aa:bb:cc',
          devPort: 1,
          up: null,
          mtu: null,
          away: { since: '2024-01-02T00:00:00.000Z', via: 'hook', leftAs: 'eth1', container: { id: 'abc', name: 'web', pid: 42, netns: '/proc/42/ns/net' }, insideName: 'net0', netnsInode: 4026532456 },
        }),
      ],
    }
    saveRegistry(reg)
    expect(loadRegistry()).toEqual(reg)
    expect(statSync(registryPath()).mode & 0o777).toBe(0o600)
    // and the udev front's lock, by which nicback vouches for the directory (paths.ts)
    expect(readdirSync(state.dir).sort()).toEqual(['registry.json', 'udev-leader.lock'])
  })

  it('keeps 0600 when it replaces a file that had wider permissions', () => {
    writeFileSync(registryPath(), JSON.stringify(emptyRegistry()))
    chmodSync(registryPath(), 0o644)
    saveRegistry({ ...emptyRegistry(), nics: [entry('eth0')] })
    expect(statSync(registryPath()).mode & 0o777).toBe(0o600)
  })

  it("updateRegistry writes only when asked to, under the lock, and leaves only the registry and its lock file (and the front's)", () => {
    const v = updateRegistry((reg) => ({ changed: false, value: reg.nics.length }))
    expect(v).toBe(0)
    expect(readdirSync(state.dir).sort()).toEqual(['registry.json.lock', 'udev-leader.lock'])
    updateRegistry((reg) => {
      putEntry(reg, entry('eth0'))
      return { changed: true, value: null }
    })
    expect(loadRegistry().nics.map((e) => e.name)).toEqual(['eth0'])
    expect(readdirSync(state.dir).sort()).toEqual(['registry.json', 'registry.json.lock', 'udev-leader.lock'])
  })

  describe('a file it cannot read is an error naming the file, and is never overwritten', () => {
    const cases: [string, string, RegExp][] = [
      ['corrupted JSON', '{"format": "nicback-registry", "version": 1, "nics": [', /is not valid JSON/],
      ['foreign JSON (no format field)', '{"hello": "world"}\n', /is not a nicback registry/],
      ['a JSON array', '[]', /is not a nicback registry/],
      ['a newer version', '{"format": "nicback-registry", "version": 2, "nics": [], "extra": {}}', /newer nicback \(registry version 2/],
    ]
    for (const [what, text, pattern] of cases) {
      it(what, () => {
        writeFileSync(registryPath(), text, { mode: 0o644 })
        const mode = statSync(registryPath()).mode
        expectRegistryError(() => loadRegistry(), pattern, new RegExp(registryPath().replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
        let called = false
        expectRegistryError(
          () =>
            updateRegistry((reg) => {
              called = true
              reg.nics = []
              return { changed: true, value: null }
            }),
          pattern,
        )
        expect(called).toBe(false)
        expect(readFileSync(registryPath(), 'utf8')).toBe(text)
        expect(statSync(registryPath()).mode).toBe(mode)
      })
    }
  })

  describe('schema violations name the file and the place', () => {
    const write = (nics: unknown[]) => writeFileSync(registryPath(), JSON.stringify({ format: 'nicback-registry', version: 1, nics }))
    it('a bad MAC', () => {
      write([entry('eth0'), { ...entry('eth1'), mac: 'not-a-mac' }])
      expectRegistryError(() => loadRegistry(), /registry\.json fails the registry schema/, /nics\.1\.mac: not a MAC address/)
    })
    it('an invalid interface name', () => {
      write([{ ...entry('eth0'), name: 'eth0:1' }])
      expectRegistryError(() => loadRegistry(), /nics\.0\.name: not a valid interface name/)
      write([{ ...entry('eth0'), name: 'a-name-of-16-chr' }])
      expectRegistryError(() => loadRegistry(), /nics\.0\.name: not a valid interface name/)
    })
    it('a wrong type, a missing field, a bad enum', () => {
      write([{ ...entry('eth0'), mtu: '1500' }])
      expectRegistryError(() => loadRegistry(), /nics\.0\.mtu/)
      const { recordedAt: _, ...noDate } = entry('eth0')
      write([noDate])
      expectRegistryError(() => loadRegistry(), /nics\.0\.recordedAt/)
      write([{ ...entry('eth0'), away: { since: 'x', via: 'teleport', leftAs: 'eth0' } }])
      expectRegistryError(() => loadRegistry(), /nics\.0\.away\.via/)
    })
    it('the old version number', () => {
      writeFileSync(registryPath(), JSON.stringify({ format: 'nicback-registry', version: 0, nics: [] }))
      expectRegistryError(() => loadRegistry(), /version/)
    })
  })
})

describe('putEntry', () => {
  it('replaces the entry of the same NIC and the entry of the same name, and says which NIC it displaced', () => {
    const reg: Registry = { ...emptyRegistry(), nics: [entry('eth0', { bus: 'A' }), entry('eth1', { bus: 'B' }), entry('eth2', { bus: 'C' })] }
    // NIC A is now called eth1: its old entry goes, and B's (same name) too.
    const displaced = putEntry(reg, entry('eth1', { bus: 'A' }))
    expect(displaced.map((e) => [e.name, e.bus])).toEqual([['eth1', 'B']])
    expect(reg.nics.map((e) => [e.name, e.bus])).toEqual([
      ['eth1', 'A'],
      ['eth2', 'C'],
    ])
  })
})
