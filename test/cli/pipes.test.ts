// EPIPE is quiet everywhere (issue 18): when the reader of nicback's output
// has gone (`nicback status | head -1`, a runtime that closed the hook's
// stderr), every entry point of the built bundle exits with its own status,
// and says nothing: no stack trace, no "write EPIPE". Here the pipe's read end
// is closed before the command has started, so its first write fails.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundle, type Bundle } from './bundle.js'

let b: Bundle
const state = mkdtempSync(join(tmpdir(), 'nicback-pipes-'))
beforeAll(async () => {
  b = await bundle()
}, 60_000)
afterAll(() => {
  b?.remove()
  rmSync(state, { recursive: true, force: true })
})

/** Runs `file` (a script of the bundle) with `closed` already closed by its reader. */
function run(file: string, args: string[], closed: 'stdout' | 'stderr', env: Record<string, string> = {}): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  const child = spawn(process.execPath, [join(b.dir, file), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, NICBACK_STATE_DIR: state, ...env } })
  child[closed].destroy()
  let out = ''
  let err = ''
  if (closed !== 'stdout') child.stdout.on('data', (d) => (out += d))
  if (closed !== 'stderr') child.stderr.on('data', (d) => (err += d))
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err })))
}

describe('a closed stdout', () => {
  const cases: [string[], number][] = [
    [['--help'], 0],
    [['--version'], 0],
    [['help', 'restore'], 0],
    [['restore', '--help'], 0],
    [['status'], 0],
    [['status', '--json'], 0],
    [['metrics'], 0],
    [['completion', 'bash'], 0],
  ]
  for (const [args, code] of cases) {
    it(`nicback ${args.join(' ')}: its own exit status, nothing on stderr`, async () => {
      const r = await run('nicback.mjs', args, 'stdout')
      expect(r.err).toBe('')
      expect(r.signal).toBeNull()
      expect(r.code).toBe(code)
    })
  }
})

describe('a closed stderr', () => {
  it('nicback: a usage error still exits 2, a failure 1', async () => {
    expect((await run('nicback.mjs', ['frobnicate'], 'stderr')).code).toBe(2)
    expect((await run('nicback.mjs', ['restore', '--bogus'], 'stderr')).code).toBe(2)
    expect((await run('nicback.mjs', ['status'], 'stderr', { NICBACK_STATE_DIR: 'relative' })).code).toBe(1)
  })

  it('nicback hook: its status, not a crash', async () => {
    expect((await run('nicback.mjs', ['hook', '--stage', 'poststop'], 'stderr')).code).toBe(1)
  })

  it('nicback-udev.cjs: its status, not a crash', async () => {
    expect((await run('nicback-udev.cjs', [], 'stderr')).code).toBe(2)
  })

  it('nicback-runtime: its status, not a crash', async () => {
    expect((await run('nicback-runtime.mjs', ['--nicback-runtime'], 'stderr')).code).toBe(2)
    const r = await run('nicback-runtime.mjs', ['--nicback-runtime', '/nonexistent/runc', 'state', 'c1'], 'stderr')
    expect(r.code).toBe(127)
  })
})
