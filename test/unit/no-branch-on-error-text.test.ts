// Errors are data (issue 19): a catcher branches on an error's code, never on
// its text. Read from the sources: no line of scripts/ tests, matches or
// searches an error's `.message`. The kernel's own answers (ip's strerror
// words) are read once, into an errno, by the kernel port
// (apply/kernel.ts errnoOf), which is no error of nicback's.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(__dirname, '../../scripts')

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
    for (const bad of [
      'if (/still held/.test(err.message)) return null',
      'x = /a/.exec(e.message)',
      "err.message.includes('File exists')",
      "if ((err as Error).message.startsWith('no'))",
      'e.message.trim().endsWith("x")',
      'f.message.match(/y/)',
      '/did not come back/.test(f.error)',
    ])
      expect(readsMessageText(bad)).toBe(true)
    for (const ok of ['throw new MoveError((err as Error).message, code)', "if (isNicbackError(err, 'lock_held')) return null", 'log.error(err.message, toFields(err))', 'names.includes(name)']) expect(readsMessageText(ok)).toBe(false)
  })
  it('no line of scripts/ tests, matches or searches an error message', () => {
    const found: string[] = []
    for (const f of files(ROOT)) {
      const rel = relative(ROOT, f)
      for (const [i, line] of readFileSync(f, 'utf8').split('\n').entries()) {
        if (!readsMessageText(line)) continue
        found.push(`scripts/${rel}:${i + 1}: ${line.trim()}`)
      }
    }
    expect(found).toEqual([])
  })
})
