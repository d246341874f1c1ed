// Bundles each entry point into dist/ with esbuild. Code splitting keeps every
// command in its own chunk, loaded on demand: the udev hot path parses only
// what it runs (see README "Start-up cost").
import { build } from 'esbuild'
import { chmodSync, cpSync, existsSync, rmSync } from 'node:fs'

const entryPoints = { nicback: 'scripts/nicback.ts' }
if (existsSync('scripts/nicback-runtime.ts')) entryPoints['nicback-runtime'] = 'scripts/nicback-runtime.ts'

rmSync('dist', { recursive: true, force: true })
await build({
  entryPoints,
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  // zx's ESM entry wraps CommonJS and calls require(); write-file-atomic uses
  // __filename to name its temp files.
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __nbRequire } from 'node:module'; import { fileURLToPath as __nbPath } from 'node:url';",
      'const require = __nbRequire(import.meta.url); const __filename = __nbPath(import.meta.url);',
    ].join('\n'),
  },
  logLevel: 'warning',
})
// The udev hot path: one CommonJS file, no chunks to resolve, no ESM loader.
await build({
  entryPoints: { 'nicback-udev': 'scripts/nicback-udev.ts' },
  outdir: 'dist',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.cjs' },
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  logLevel: 'warning',
})
for (const name of Object.keys(entryPoints)) chmodSync(`dist/${name}.mjs`, 0o755)
// Templates read at run time by `nicback install`, also once installed.
cpSync('udev', 'dist/udev', { recursive: true })
if (existsSync('hooks')) cpSync('hooks', 'dist/hooks', { recursive: true })
