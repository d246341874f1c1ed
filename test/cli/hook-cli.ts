// The built nicback as a runtime and an admin run it (`nicback hook`,
// `nicback install`): its own scratch folder (the registry, bundles, --root
// trees), removed after the file. Call useBuiltHookCli() once at the top of a
// test file.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect } from 'vitest'
import { bundle, type Bundle } from './bundle.js'

let b: Bundle
export const tmp = mkdtempSync(join(tmpdir(), 'nicback-hookcli-'))

export function useBuiltHookCli(): void {
  beforeAll(async () => {
    b = await bundle()
  }, 60_000)
  afterAll(() => {
    b?.remove()
    rmSync(tmp, { recursive: true, force: true })
  })
}

export function nicback(args: string[], input: string | null, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [b.nicback, ...args], {
    encoding: 'utf8',
    input: input ?? undefined,
    stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, NICBACK_STATE_DIR: join(tmp, 'state'), ...env },
    timeout: 30_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

export const noTrace = (stderr: string) => expect(stderr).not.toMatch(/^\s+at .*[(:]\d+/m)

let n = 0
export function bundleDir(config: unknown): string {
  const dir = join(tmp, `bundle${++n}`)
  mkdirSync(dir)
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config))
  return dir
}
export const state = (o: Record<string, unknown>) => JSON.stringify({ ociVersion: '1.0.2', id: 'c1', status: 'creating', pid: 1, bundle: '/nonexistent', ...o })
