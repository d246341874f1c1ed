// The registry's flock across real concurrent processes: the real modules,
// bundled, run by spawned node processes. (Within one process:
// test/unit/system/lock.test.ts; the registry file: test/unit/state/registry.test.ts.)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { acquireLock } from '../../scripts/lib/system/lock.js'
import { emptyRegistry, loadRegistry, registryPath, saveRegistry } from '../../scripts/lib/state/registry.js'
import { registryEntry as entry, useTempStateDir } from '../unit/helpers.js'

const ROOT = join(import.meta.dirname, '../..')

const state = useTempStateDir()

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
      env: { ...process.env, NICBACK_STATE_DIR: state.dir },
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
    // (udev-leader.lock: nicback vouching for the directory to the udev front, paths.ts)
    expect(readdirSync(state.dir).sort()).toEqual(['registry.json', 'registry.json.lock', 'udev-leader.lock'])
  }, 60_000)

  it('times out with a NicbackError lock_held while another process holds it, and succeeds once released', async () => {
    const lockPath = `${registryPath()}.lock`
    const held = acquireLock(lockPath, 5)
    const probe = `
      const t0 = Date.now()
      try { nb.acquireLock(${JSON.stringify(lockPath)}, 1).release(); console.log('acquired') }
      catch (e) { console.log(JSON.stringify({ timeout: e.code === 'lock_held', message: e.message, ms: Date.now() - t0 })) }
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

  it('is released by the kernel when the holder is killed', async () => {
    const lockPath = `${registryPath()}.lock`
    const holder = child(`nb.acquireLock(${JSON.stringify(lockPath)}, 5); console.log('locked'); setInterval(() => {}, 1000)`)
    await waitFor(holder, 'locked')
    expect(() => acquireLock(lockPath, 0)).toThrow(expect.objectContaining({ code: 'lock_held' }))
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
      env: { ...process.env, NICBACK_STATE_DIR: state.dir },
      encoding: 'utf8',
    })
    expect(r.stdout.trim()).toBe('eth0')
  })
})
