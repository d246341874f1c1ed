// Errors are data (issue 19): a catcher branches on an error's code, never on
// its text. Read from the sources: no line of scripts/ tests, matches or
// searches an error's `.message`. apply/ is left to its rewrite, and with it
// the two lines of moments/return.ts that read the executor's and transit's
// text (their errors get codes there).
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(__dirname, '../../scripts')
const EXEMPT_DIRS = ['lib/apply/']
/** Known lines that go with the engine's rewrite: [file, a piece of the line]. */
const EXEMPT_LINES: [string, string][] = [
  ['lib/moments/return.ts', '/File exists/.test(f.message)'],
  ['lib/moments/return.ts', '(looked for it by identity\\)$/.test(err.message)'],
]

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : /\.(ts|mjs)$/.test(d.name) ? [join(dir, d.name)] : []))
}

/** Pure: whether a line of source branches on an error's text: `.message`
 *  (or a failure's `.error` sentence) given to a regex's test/exec, or searched with match/includes/startsWith/
 *  endsWith/search/indexOf. */
function readsMessageText(line: string): boolean {
  return /\.(test|exec)\([^)]*\.(message|error)\b/.test(line) || /\.message\b(\.trim\(\)|\.toLowerCase\(\))?\.(match|matchAll|includes|startsWith|endsWith|search|indexOf)\(/.test(line)
}

describe('no branch on error text', () => {
  it('the detector sees each way of reading the text, and not the text passed on', () => {
    for (const bad of ['if (/still held/.test(err.message)) return null', 'x = /a/.exec(e.message)', "err.message.includes('File exists')", "if ((err as Error).message.startsWith('no'))", 'e.message.trim().endsWith("x")', 'f.message.match(/y/)', '/did not come back/.test(f.error)']) expect(readsMessageText(bad)).toBe(true)
    for (const ok of ['throw new MoveError((err as Error).message, code)', "if (isNicbackError(err, 'lock_held')) return null", 'log.error(err.message, toFields(err))', "names.includes(name)"]) expect(readsMessageText(ok)).toBe(false)
  })
  it('no line of scripts/ outside apply/ tests, matches or searches an error message', () => {
    const found: string[] = []
    for (const f of files(ROOT)) {
      const rel = relative(ROOT, f)
      if (EXEMPT_DIRS.some((d) => rel.startsWith(d))) continue
      for (const [i, line] of readFileSync(f, 'utf8').split('\n').entries()) {
        if (!readsMessageText(line)) continue
        if (EXEMPT_LINES.some(([file, piece]) => file === rel && line.includes(piece))) continue
        found.push(`scripts/${rel}:${i + 1}: ${line.trim()}`)
      }
    }
    expect(found).toEqual([])
  })
  it('the exempt lines are still there (drop them from the list once they go)', () => {
    for (const [file, piece] of EXEMPT_LINES) expect(readFileSync(join(ROOT, file), 'utf8')).toContain(piece)
  })
})
