// The unit tier runs the real command lines (exit codes, messages on stderr,
// no stack traces) without `npm run build`, which would delete dist/ under
// other tiers running at the same time: esbuild bundles the entry points into
// a temporary folder, with the same shape as scripts/build.mjs.
import { build } from 'esbuild'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
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

export async function bundle(): Promise<Bundle> {
  const dir = mkdtempSync(join(tmpdir(), 'nicback-unit-dist-'))
  await build({
    entryPoints: { nicback: join(REPO, 'scripts/nicback.ts'), 'nicback-runtime': join(REPO, 'scripts/nicback-runtime.ts') },
    outdir: dir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    banner: {
      js: [
        "import { createRequire as __nbRequire } from 'node:module'; import { fileURLToPath as __nbPath } from 'node:url';",
        'const require = __nbRequire(import.meta.url); const __filename = __nbPath(import.meta.url);',
      ].join('\n'),
    },
    logLevel: 'error',
  })
  cpSync(join(REPO, 'hooks'), join(dir, 'hooks'), { recursive: true })
  cpSync(join(REPO, 'udev'), join(dir, 'udev'), { recursive: true })
  return { dir, nicback: join(dir, 'nicback.mjs'), runtime: join(dir, 'nicback-runtime.mjs'), remove: () => rmSync(dir, { recursive: true, force: true }) }
}
