// The layering of scripts/lib is a rule, not a habit (issue 9): a module
// imports only from its own layer or the ones below it, no two modules of
// one layer import each other in a cycle, and no command imports another
// command. Commands parse, call one moment, print (issue 19): below their own
// layer they reach only the moments and the runtimes (the runtime-facing
// entry points, above the moments), cli/ (options, printing), and for output
// system/log.ts and system/printable.ts, and the one error type
// (system/errors.ts) to throw a usage error; never state/, facts/, plan/ or
// apply/, nor the rest of system/. Read from the sources' import lines.
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

/** What a command may import from below its own layer: whole layers (a
 *  folder of scripts/lib) and single modules. */
const COMMANDS_MAY_IMPORT = ['lib/moments/', 'lib/runtimes/', 'lib/cli/', 'lib/system/log.ts', 'lib/system/printable.ts', 'lib/system/errors.ts']

/** The import cycles among `nodes` (edges only between them): one per
 *  strongly connected component of more than one module, or a module that
 *  imports itself, as the path that closes it. */
export function cycles(nodes: readonly string[], edges: (f: string) => string[]): string[][] {
  const inSet = new Set(nodes)
  const found: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (f: string): void => {
    state.set(f, 'open')
    stack.push(f)
    for (const to of edges(f).filter((t) => inSet.has(t))) {
      if (state.get(to) === 'open') found.push([...stack.slice(stack.indexOf(to)), to])
      else if (state.get(to) === undefined) visit(to)
    }
    stack.pop()
    state.set(f, 'done')
  }
  for (const f of [...nodes].sort()) if (state.get(f) === undefined) visit(f)
  return found
}

describe('scripts/lib layering', () => {
  const all = files(join(ROOT, 'lib')).concat(files(join(ROOT, 'commands')))
  it('every module is in a known layer', () => {
    expect(all.filter((f) => layerOf(f) < 0).map((f) => relative(ROOT, f))).toEqual([])
  })
  it('no module imports from a layer above its own', () => {
    const up = all.flatMap((f) =>
      imports(f)
        .filter((i) => layerOf(i) > layerOf(f))
        .map((i) => `${relative(ROOT, f)} -> ${relative(ROOT, i)}`),
    )
    expect(up).toEqual([])
  })
  it('finds an import cycle, and says which modules close it', () => {
    const graph: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a', 'd'], d: [], e: ['e'] }
    expect(cycles(Object.keys(graph), (f) => graph[f]!)).toEqual([
      ['a', 'b', 'c', 'a'],
      ['e', 'e'],
    ])
    expect(cycles(['a', 'b'], (f) => graph[f]!)).toEqual([]) // c is not among them
  })
  it('no import cycle among the modules of one layer', () => {
    const found = LAYERS.flatMap((_, layer) =>
      cycles(
        all.filter((f) => layerOf(f) === layer),
        imports,
      ),
    )
    expect(found.map((c) => c.map((f) => relative(ROOT, f)).join(' -> '))).toEqual([])
  })
  it('commands import only the moments, the runtimes, cli/ and system/{log,printable,errors} from below', () => {
    const below = files(join(ROOT, 'commands')).flatMap((f) =>
      imports(f)
        .filter((i) => layerOf(i) < LAYERS.indexOf('commands') && !COMMANDS_MAY_IMPORT.some((ok) => relative(ROOT, i) === ok || relative(ROOT, i).startsWith(ok)))
        .map((i) => `${relative(ROOT, f)} -> ${relative(ROOT, i)}`),
    )
    expect(below).toEqual([])
  })
  it('no command imports another command', () => {
    const cross = files(join(ROOT, 'commands')).flatMap((f) =>
      imports(f)
        .filter((i) => layerOf(i) === LAYERS.indexOf('commands'))
        .map((i) => `${relative(ROOT, f)} -> ${relative(ROOT, i)}`),
    )
    expect(cross).toEqual([])
  })
})
