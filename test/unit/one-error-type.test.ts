// One error type (issue 19): scripts/ throws NicbackError (system/errors.ts),
// data a catcher checks by its code. Read from the sources: no other class
// extends Error, and no plain Error is thrown.
// demo's Stop is its own control flow, never seen outside demo.ts.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(__dirname, '../../scripts')
const EXEMPT_DIRS: string[] = []
const EXEMPT_LINES: [string, string][] = [
  ['lib/system/errors.ts', 'export class NicbackError extends Error {'],
  ['commands/demo.ts', 'class Stop extends Error {}'],
]

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []))
}

describe('one error type', () => {
  it('no class but NicbackError extends Error, and no plain Error is thrown,', () => {
    const found: string[] = []
    for (const f of files(ROOT)) {
      const rel = relative(ROOT, f)
      if (EXEMPT_DIRS.some((d) => rel.startsWith(d))) continue
      for (const [i, line] of readFileSync(f, 'utf8').split('\n').entries()) {
        if (!/\bextends Error\b|\bnew Error\(/.test(line)) continue
        if (EXEMPT_LINES.some(([file, piece]) => file === rel && line.includes(piece))) continue
        found.push(`scripts/${rel}:${i + 1}: ${line.trim()}`)
      }
    }
    expect(found).toEqual([])
  })
})
