// Durable, atomic writes (system/atomic.ts): a new file beside the
// destination, renamed over it; nothing at the destination is ever opened or
// followed, and a failed write leaves no temporary file behind.
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeFileDurably } from '../../../scripts/lib/system/atomic.js'

let dir = ''
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nicback-atomic-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const mode = (p: string) => statSync(p).mode & 0o7777

describe('writeFileDurably', () => {
  it('writes a new file, and replaces an existing one, with nothing else left in the directory', () => {
    const p = join(dir, 'registry.json')
    writeFileDurably(p, 'one\n')
    expect(readFileSync(p, 'utf8')).toBe('one\n')
    writeFileDurably(p, 'twö\n'.repeat(10_000))
    expect(readFileSync(p, 'utf8')).toBe('twö\n'.repeat(10_000))
    expect(readdirSync(dir)).toEqual(['registry.json'])
  })

  it('keeps the mode of the regular file there; a given mode wins', () => {
    const p = join(dir, 'daemon.json')
    writeFileSync(p, '{}')
    chmodSync(p, 0o640)
    writeFileDurably(p, '{"a": 1}')
    expect(mode(p)).toBe(0o640)
    writeFileDurably(p, '{"a": 2}', 0o600)
    expect(mode(p)).toBe(0o600)
    expect(readFileSync(p, 'utf8')).toBe('{"a": 2}')
  })

  it('a new file without a mode: 0666 less the umask', () => {
    const p = join(dir, 'new.prom')
    writeFileDurably(p, 'x 1\n')
    expect(mode(p)).toBe(0o666 & ~process.umask())
  })

  it('never follows a symlink planted at the destination: the link is replaced, its target left as it was', () => {
    const victim = join(dir, 'victim')
    writeFileSync(victim, 'keep')
    chmodSync(victim, 0o600)
    const p = join(dir, 'counters.json')
    symlinkSync(victim, p)
    writeFileDurably(p, 'new')
    expect(readFileSync(victim, 'utf8')).toBe('keep')
    expect(mode(victim)).toBe(0o600)
    expect(lstatSync(p).isFile()).toBe(true)
    expect(readFileSync(p, 'utf8')).toBe('new')
    // the link's target's mode was not taken either
    expect(mode(p)).toBe(0o666 & ~process.umask())
  })

  it('a dangling symlink at the destination: its target is never created', () => {
    const target = join(dir, 'made-by-root')
    const p = join(dir, 'registry.json')
    symlinkSync(target, p)
    writeFileDurably(p, 'new')
    expect(() => lstatSync(target)).toThrow()
    expect(readFileSync(p, 'utf8')).toBe('new')
  })

  it('a write that fails (a directory at the destination) throws and leaves no temporary file', () => {
    const p = join(dir, 'registry.json')
    mkdirSync(p)
    writeFileSync(join(p, 'inside'), 'x')
    expect(() => writeFileDurably(p, 'new')).toThrow()
    expect(readdirSync(dir)).toEqual(['registry.json'])
    expect(readdirSync(p)).toEqual(['inside'])
  })

  it('a missing directory: throws, creates nothing', () => {
    expect(() => writeFileDurably(join(dir, 'no', 'such.json'), 'x')).toThrow(/ENOENT/)
    expect(readdirSync(dir)).toEqual([])
  })

  it('the link at the destination stays a link until the rename: its own name is what is replaced', () => {
    const p = join(dir, 'x.json')
    symlinkSync('elsewhere', p)
    expect(readlinkSync(p)).toBe('elsewhere')
    writeFileDurably(p, '1')
    expect(() => readlinkSync(p)).toThrow()
  })
})
