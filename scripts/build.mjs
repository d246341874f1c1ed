// Bundles each entry point with esbuild into dist/, or into the folder given
// as the only argument (the test tiers build their own copy, so that a build
// never deletes dist/ under a running tier). Code splitting keeps every
// command in its own chunk, loaded on demand (see docs/design.md, "Start-up cost").
//   node scripts/build.mjs [OUTDIR]
import { build } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { chmodSync, cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('..', import.meta.url))
const out = resolve(process.argv[2] ?? join(repo, 'dist'))
// The oldest node package.json's engines allows (">=18": Debian 12's own
// nodejs, which the Debian package depends on as nodejs (>= 18)): the
// bundle must run there (deploy/debian/node18.sh, test/pkg/nodes.test.ts).
const engines = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).engines?.node ?? ''
const oldest = /^\s*>=\s*(\d+)(?:\.\d+){0,2}\s*$/.exec(engines)?.[1]
if (!oldest) throw new Error(`package.json engines.node is "${engines}": the build needs a lower bound (">=18") for its target`)
const TARGET = `node${oldest}`
// jsonc-parser's "main" is a UMD file whose require() esbuild cannot follow
// (require is the factory's parameter there): bundle its ES module build.
const alias = { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' }
const entryPoints = { nicback: join(repo, 'scripts/nicback.ts'), 'nicback-runtime': join(repo, 'scripts/nicback-runtime.ts') }

rmSync(out, { recursive: true, force: true })
await build({
  entryPoints,
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: TARGET,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  alias,
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  // zx's ESM entry wraps CommonJS and calls require(); __filename for any
  // CommonJS module that names files by it.
  banner: {
    js: ['#!/usr/bin/env node', "import { createRequire as __nbRequire } from 'node:module'; import { fileURLToPath as __nbPath } from 'node:url';", 'const require = __nbRequire(import.meta.url); const __filename = __nbPath(import.meta.url);'].join(
      '\n',
    ),
  },
  logLevel: 'warning',
})
// The udev hot path: one CommonJS file, no chunks to resolve, no ESM loader.
await build({
  entryPoints: { 'nicback-udev': join(repo, 'scripts/nicback-udev.ts') },
  outdir: out,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: TARGET,
  outExtension: { '.js': '.cjs' },
  alias,
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  logLevel: 'warning',
})
for (const name of Object.keys(entryPoints)) chmodSync(join(out, `${name}.mjs`), 0o755)
// The banner's #! line belongs to the two commands only: a chunk is a module,
// not a script (lintian: script-not-executable in the package).
for (const f of readdirSync(join(out, 'chunks'))) {
  const path = join(out, 'chunks', f)
  const text = readFileSync(path, 'utf8')
  if (text.startsWith('#!')) writeFileSync(path, text.slice(text.indexOf('\n') + 1))
}
// The bash completion, from the built CLI's own command table and options
// ("nicback completion bash"), for /usr/share/bash-completion/completions/nicback.
writeFileSync(join(out, 'nicback.bash-completion'), execFileSync(process.execPath, [join(out, 'nicback.mjs'), 'completion', 'bash'], { encoding: 'utf8' }))
// Templates read at run time by `nicback install`, also once installed.
cpSync(join(repo, 'udev'), join(out, 'udev'), { recursive: true })
cpSync(join(repo, 'hooks'), join(out, 'hooks'), { recursive: true })
