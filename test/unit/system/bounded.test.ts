// Bounded reads of files someone else put in place (system/bounded.ts):
// regular files only, at most `max` bytes, and a FIFO is refused at once,
// never read (it would block).
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readBounded } from '../../../scripts/lib/system/bounded.js'

let dir = ''
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nicback-bounded-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('readBounded', () => {
  it('reads a regular file of up to max bytes, as UTF-8', () => {
    const p = join(dir, 'config.json')
    writeFileSync(p, '{"é": 1}')
    expect(readBounded(p, 9)).toBe('{"é": 1}')
    expect(readBounded(p, 1 << 20)).toBe('{"é": 1}')
    writeFileSync(p, '')
    expect(readBounded(p, 0)).toBe('')
  })

  it('a file larger than max is an error, not a truncation', () => {
    const p = join(dir, 'config.json')
    writeFileSync(p, 'x'.repeat(11))
    expect(() => readBounded(p, 10)).toThrow(`${p} is 11 bytes, more than the 10 nicback reads`)
  })

  it('a FIFO is refused at once, never read (no writer: a read would block)', () => {
    const p = join(dir, 'config.json')
    expect(spawnSync('mkfifo', [p]).status).toBe(0)
    const t0 = performance.now()
    expect(() => readBounded(p, 1024)).toThrow(`${p} is not a regular file`)
    expect(performance.now() - t0).toBeLessThan(1000)
  })

  it('a symlink to a FIFO is refused the same way', () => {
    const fifo = join(dir, 'fifo')
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0)
    const p = join(dir, 'config.json')
    symlinkSync(fifo, p)
    expect(() => readBounded(p, 1024)).toThrow(`${p} is not a regular file`)
  })

  it('a directory or a device that never ends (/dev/zero) is refused', () => {
    const d = join(dir, 'config.json')
    mkdirSync(d)
    expect(() => readBounded(d, 1024)).toThrow(`${d} is not a regular file`)
    expect(() => readBounded('/dev/zero', 1024)).toThrow('/dev/zero is not a regular file')
  })

  it('a missing file: the open fails', () => {
    expect(() => readBounded(join(dir, 'missing'), 1024)).toThrow(/ENOENT/)
  })
})
