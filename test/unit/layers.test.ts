// The layering of scripts/lib is a rule, not a habit (issue 9): a module
// imports only from its own layer or the ones below it, and no command
// imports another command. Read from the sources' import lines.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(__dirname, '../../scripts')
/** Bottom to top. */
const LAYERS = ['types.ts', 'system', 'facts', 'state', 'plan', 'apply', 'moments', 'runtimes', 'cli', 'commands']

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []))
}

function layerOf(file: string): number {
  const rel = relative(ROOT, file).split('/')
  const key = rel[0] === 'lib' ? rel[1]! : rel[0]!
  return LAYERS.indexOf(key)
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')))
}

describe('scripts/lib layering', () => {
  const all = files(join(ROOT, 'lib')).concat(files(join(ROOT, 'commands')))
  it('every module is in a known layer', () => {
    expect(all.filter((f) => layerOf(f) < 0).map((f) => relative(ROOT, f))).toEqual([])
  })
  it('no module imports from a layer above its own', () => {
    const up = all.flatMap((f) => imports(f).filter((i) => layerOf(i) > layerOf(f)).map((i) => `${relative(ROOT, f)} -> ${relative(ROOT, i)}`))
    expect(up).toEqual([])
  })
  it('no command imports another command', () => {
    const cross = files(join(ROOT, 'commands')).flatMap((f) => imports(f).filter((i) => layerOf(i) === LAYERS.indexOf('commands')).map((i) => `${relative(ROOT, f)} -> ${relative(ROOT, i)}`))
    expect(cross).toEqual([])
  })
})
