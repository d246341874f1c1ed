// The cli tier runs the real command lines (exit codes, messages on stderr,
// no stack traces) from the project's own build (scripts/build.mjs) written
// to a temporary folder: building dist/ would delete it under other tiers.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

export interface Bundle {
  dir: string
  nicback: string
  runtime: string
  remove(): void
}

/** The project's own build (scripts/build.mjs), into a temporary folder. */
export async function bundle(): Promise<Bundle> {
  const dir = mkdtempSync(join(tmpdir(), 'nicback-unit-dist-'))
  execFileSync(process.execPath, [join(REPO, 'scripts/build.mjs'), dir], { stdio: ['ignore', 'ignore', 'inherit'] })
  return { dir, nicback: join(dir, 'nicback.mjs'), runtime: join(dir, 'nicback-runtime.mjs'), remove: () => rmSync(dir, { recursive: true, force: true }) }
}
