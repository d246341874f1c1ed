// Every log line is structured (issue 19): each call of log.debug/info/warn/
// error in scripts/ passes its fields (nic, cause, fix, a NicbackError's
// through toFields...), which JSON lines carry and text lines render. Read
// from the sources.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(__dirname, '../../scripts')
const EXEMPT_DIRS: string[] = []

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []))
}

/** Pure: the number of top-level arguments of the call whose "(" is at
 *  `open` in `src` (strings, template literals and nesting skipped). */
function argCount(src: string, open: number): number {
  const stack: string[] = []
  let n = 1
  for (let j = open; j < src.length; j++) {
    const c = src[j]!
    const top = stack.at(-1)
    if (top === "'" || top === '"' || top === '`') {
      if (c === '\\') j++
      else if (c === top) stack.pop()
      else if (top === '`' && c === '$' && src[j + 1] === '{') {
        stack.push('{')
        j++
      }
      continue
    }
    if (c === "'" || c === '"' || c === '`' || c === '(' || c === '[' || c === '{') stack.push(c)
    else if (c === ')' || c === ']' || c === '}') {
      stack.pop()
      if (stack.length === 0) return n
    } else if (c === ',' && stack.length === 1) n++
  }
  return n
}

/** Every log call in `src`: its line and its argument count. */
function logCalls(src: string): { line: number; args: number }[] {
  return [...src.matchAll(/\blog\.(?:debug|info|warn|error)\(|\? log\.\w+ : log\.\w+\)\(/g)].map((m) => ({ line: src.slice(0, m.index).split('\n').length, args: argCount(src, m.index + m[0].length - 1) }))
}

describe('every log line structured', () => {
  it('the reader counts the arguments of a call, whatever its strings hold', () => {
    expect(logCalls('log.warn(`a, ${f(x, y)} b`, { nic })')).toEqual([{ line: 1, args: 2 }])
    expect(logCalls("log.info('a, b (c')\n;(w ? log.warn : log.info)(`x`, {})")).toEqual([
      { line: 1, args: 1 },
      { line: 2, args: 2 },
    ])
  })
  it('every log call passes its fields', () => {
    const bare: string[] = []
    for (const f of files(ROOT)) {
      const rel = relative(ROOT, f)
      if (EXEMPT_DIRS.some((d) => rel.startsWith(d))) continue
      for (const c of logCalls(readFileSync(f, 'utf8'))) if (c.args < 2) bare.push(`scripts/${rel}:${c.line}`)
    }
    expect(bare).toEqual([])
  })
})
