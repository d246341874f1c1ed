// The built nicback, spawned as a user would run it, for the usage, status and
// forget tests: a fresh registry in a temporary directory for each test (no
// system effects). Call useBuiltNicback() once at the top of a test file.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { bundle, type Bundle } from './bundle.js'

let built: Bundle | undefined
let CLI: string
let state: string

export function useBuiltNicback(): void {
  beforeAll(async () => {
    built = await bundle()
    CLI = built.nicback
  }, 60_000)
  beforeEach(() => {
    if (state) rmSync(state, { recursive: true, force: true })
    state = mkdtempSync(join(tmpdir(), 'nicback-cli-'))
  })
  afterAll(() => {
    if (state) rmSync(state, { recursive: true, force: true })
    built?.remove()
  })
}

export function nicback(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NICBACK_STATE_DIR: state, NICBACK_DEBUG: '' },
    timeout: 20_000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

export const registry = () => join(state, 'registry.json')
export const entry = (name: string, bus: string) => ({
  name,
  bus,
  devPort: null,
  permAddr: null,
  mac: null,
  ifindex: null,
  driver: null,
  mtu: null,
  up: null,
  recordedAt: '2024-01-01T00:00:00.000Z',
  away: { since: '2024-01-01T00:00:00.000Z', via: 'udev', leftAs: name, container: { name: 'web' } },
})
/** NICs on buses no machine has: always "away". */
export const writeRegistry = (...nics: unknown[]) => writeFileSync(registry(), JSON.stringify({ format: 'nicback-registry', version: 1, nics }), { mode: 0o600 })
