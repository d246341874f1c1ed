// The registry file: schema, atomic writes, mode, refusal to overwrite what it
// cannot read, and the flock shared by every nicback process (checked with
// real concurrent processes).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { acquireLock, LockTimeoutError, withLock } from '../../scripts/lib/system/lock.js'
import { emptyRegistry, loadRegistry, putEntry, RegistryError, registryPath, saveRegistry, updateRegistry } from '../../scripts/lib/state/registry.js'
import type { Entry, Registry } from '../../scripts/lib/types.js'

const ROOT = join(import.meta.dirname, '../..')

function entry(name: string, o: Partial<Entry> = {}): Entry {
  return {
    name,
    bus: '0000:00:03.0',
    devPort: null,
    permAddr: null,
    mac: '52:54:00:12:34:56',
    ifindex: 3,
    driver: 'e1000',
    mtu: 1500,
    up: true,
    recordedAt: '2024-01-01T00:00:00.000Z',
    away: null,
    ...o,
  }
}

let dir: string
const savedEnv = process.env.NICBACK_STATE_DIR

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nicback-reg-'))
  process.env.NICBACK_STATE_DIR = dir
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
  if (savedEnv === undefined) delete process.env.NICBACK_STATE_DIR
  else process.env.NICBACK_STATE_DIR = savedEnv
})

function expectRegistryError(fn: () => unknown, ...patterns: RegExp[]): RegistryError {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(RegistryError)
  for (const p of patterns) expect((err as Error).message).toMatch(p)
  return err as RegistryError
}

describe('registry file', () => {
  it('lives in NICBACK_STATE_DIR', () => {
    expect(registryPath()).toBe(join(dir, 'registry.json'))
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
          away: { since: '2024-01-02T00:00:00.000Z', via: 'hook', leftAs: 'eth1', container: { id: 'abc', name: 'web', pid: 42, netns: '/proc/42/ns/net' }, insideName: 'net0' },
        }),
      ],
    }
    saveRegistry(reg)
    expect(loadRegistry()).toEqual(reg)
    expect(statSync(registryPath()).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir)).toEqual(['registry.json'])
  })

  it('keeps 0600 when it replaces a file that had wider permissions', () => {
    writeFileSync(registryPath(), JSON.stringify(emptyRegistry()))
    chmodSync(registryPath(), 0o644)
    saveRegistry({ ...emptyRegistry(), nics: [entry('eth0')] })
    expect(statSync(registryPath()).mode & 0o777).toBe(0o600)
  })

  it('updateRegistry writes only when asked to, under the lock, and leaves only the registry and its lock file', () => {
    const v = updateRegistry((reg) => ({ changed: false, value: reg.nics.length }))
    expect(v).toBe(0)
    expect(readdirSync(dir)).toEqual(['registry.json.lock'])
    updateRegistry((reg) => {
      putEntry(reg, entry('eth0'))
      return { changed: true, value: null }
    })
    expect(loadRegistry().nics.map((e) => e.name)).toEqual(['eth0'])
    expect(readdirSync(dir).sort()).toEqual(['registry.json', 'registry.json.lock'])
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
        expectRegistryError(() =>
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
    expect(reg.nics.map((e) => [e.name, e.bus])).toEqual([['eth1', 'A'], ['eth2', 'C']])
  })
})

// ---------------------------------------------------------------- the lock, across processes

describe('lock', () => {
  let lib: string
  let work: string
  const children: ChildProcess[] = []

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'nicback-lockbin-'))
    lib = join(work, 'lib.mjs')
    // node 20 cannot run .ts: bundle the real modules, the way the build does.
    await build({
      stdin: {
        contents: "export * from './scripts/lib/state/registry.js'; export * from './scripts/lib/system/lock.js'",
        resolveDir: ROOT,
        loader: 'ts',
      },
      outfile: lib,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      banner: {
        js: "import { createRequire as __r } from 'node:module'; import { fileURLToPath as __p } from 'node:url'; const require = __r(import.meta.url); const __filename = __p(import.meta.url);",
      },
      logLevel: 'error',
    })
  })
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    rmSync(work, { recursive: true, force: true })
  })

  /** Runs an ESM snippet with the bundled library imported as `nb`. */
  function child(code: string): ChildProcess {
    const c = spawn(process.execPath, ['--input-type=module', '-e', `import * as nb from ${JSON.stringify(lib)};\n${code}`], {
      env: { ...process.env, NICBACK_STATE_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(c)
    return c
  }

  function finished(c: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
    let out = ''
    let err = ''
    c.stdout!.on('data', (d) => (out += d))
    c.stderr!.on('data', (d) => (err += d))
    return new Promise((resolve) => c.on('close', (code) => resolve({ code, out, err })))
  }

  function waitFor(c: ChildProcess, text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let out = ''
      c.stdout!.on('data', (d) => {
        out += d
        if (out.includes(text)) resolve()
      })
      c.on('close', (code) => reject(new Error(`child exited (${code}) before printing "${text}": ${out}`)))
    })
  }

  it('loses no update when 8 processes add 20 entries each at once', async () => {
    const runs = Array.from({ length: 8 }, (_, k) =>
      finished(
        child(`
          for (let i = 0; i < 20; i++) {
            nb.updateRegistry((reg) => {
              nb.putEntry(reg, { name: 'p${k}n' + i, bus: '0000:${k.toString(16).padStart(2, '0')}:' + i.toString(16).padStart(2, '0') + '.0', devPort: null, permAddr: null, mac: null,
                ifindex: null, driver: null, mtu: null, up: null, recordedAt: new Date().toISOString(), away: null })
              return { changed: true, value: null }
            }, { lockTimeoutSec: 60 })
          }
        `),
      ),
    )
    const results = await Promise.all(runs)
    for (const r of results) expect(r, r.err).toMatchObject({ code: 0 })
    const names = loadRegistry().nics.map((e) => e.name)
    expect(names).toHaveLength(160)
    expect(new Set(names).size).toBe(160)
    for (let k = 0; k < 8; k++) for (let i = 0; i < 20; i++) expect(names).toContain(`p${k}n${i}`)
    expect(readdirSync(dir).sort()).toEqual(['registry.json', 'registry.json.lock'])
  }, 60_000)

  it('times out with LockTimeoutError while another process holds it, and succeeds once released', async () => {
    const lockPath = `${registryPath()}.lock`
    const held = acquireLock(lockPath, 5)
    const probe = `
      const t0 = Date.now()
      try { nb.acquireLock(${JSON.stringify(lockPath)}, 1).release(); console.log('acquired') }
      catch (e) { console.log(JSON.stringify({ timeout: e instanceof nb.LockTimeoutError, message: e.message, ms: Date.now() - t0 })) }
    `
    try {
      const r = await finished(child(probe))
      expect(r.code).toBe(0)
      const res = JSON.parse(r.out) as { timeout: boolean; message: string; ms: number }
      expect(res.timeout).toBe(true)
      expect(res.message).toContain(`cannot lock ${lockPath}: still held by another nicback after 1 s`)
      expect(res.ms).toBeGreaterThanOrEqual(900)
    } finally {
      held.release()
    }
    const r = await finished(child(probe))
    expect(r.out.trim()).toBe('acquired')
  }, 20_000)

  it('times out in the same process too (a second open file description)', () => {
    const lockPath = `${registryPath()}.lock`
    withLock(lockPath, 5, () => {
      expect(() => acquireLock(lockPath, 0)).toThrow(LockTimeoutError)
    })
    // Released by withLock: free again.
    acquireLock(lockPath, 0).release()
  })

  it('releases it in withLock when the function throws', () => {
    const lockPath = `${registryPath()}.lock`
    expect(() =>
      withLock(lockPath, 5, () => {
        throw new Error('boom')
      }),
    ).toThrow('boom')
    acquireLock(lockPath, 0).release()
  })

  it('is released by the kernel when the holder is killed', async () => {
    const lockPath = `${registryPath()}.lock`
    const holder = child(`nb.acquireLock(${JSON.stringify(lockPath)}, 5); console.log('locked'); setInterval(() => {}, 1000)`)
    await waitFor(holder, 'locked')
    expect(() => acquireLock(lockPath, 0)).toThrow(LockTimeoutError)
    const gone = finished(holder)
    holder.kill('SIGKILL')
    await gone
    const t0 = performance.now()
    acquireLock(lockPath, 1).release()
    expect(performance.now() - t0).toBeLessThan(1000)
  }, 20_000)

  it('bundle sanity: the child sees the same registry file', () => {
    saveRegistry({ ...emptyRegistry(), nics: [entry('eth0')] })
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import * as nb from ${JSON.stringify(lib)}; console.log(nb.loadRegistry().nics.map((e) => e.name).join(','))`], {
      env: { ...process.env, NICBACK_STATE_DIR: dir },
      encoding: 'utf8',
    })
    expect(r.stdout.trim()).toBe('eth0')
  })
})
