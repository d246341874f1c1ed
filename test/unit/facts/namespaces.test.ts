// The host's other network namespaces (facts/namespaces.ts), on a /proc
// stand-in: one entry each, by a process in it or a bind mount of it.
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { otherNetns, tame } from '../../../scripts/lib/facts/namespaces.js'

describe('otherNetns', () => {
  let proc: string
  afterEach(() => rmSync(proc, { recursive: true, force: true }))

  it("each namespace once: by its first process, else by a bind mount; never nicback's own", () => {
    proc = mkdtempSync(join(tmpdir(), 'nicback-proc-'))
    // Namespace files stand-ins: regular files, one inode each.
    const ns = (name: string) => {
      const p = join(proc, 'ns', name)
      mkdirSync(join(proc, 'ns'), { recursive: true })
      writeFileSync(p, '')
      return p
    }
    const own = ns('own')
    const a = ns('a')
    const pid = (n: number, target: string, comm: string) => {
      mkdirSync(join(proc, String(n), 'ns'), { recursive: true })
      symlinkSync(target, join(proc, String(n), 'ns', 'net'))
      writeFileSync(join(proc, String(n), 'comm'), `${comm}\n`)
    }
    mkdirSync(join(proc, 'self', 'ns'), { recursive: true })
    symlinkSync(own, join(proc, 'self', 'ns', 'net'))
    pid(1, own, 'init')
    pid(42, a, 'pause\u0007')
    pid(43, a, 'sleep')
    const aIno = statSync(a).ino
    writeFileSync(join(proc, 'self', 'mountinfo'), `500 30 0:4 net:[${aIno}] /run/netns/a rw - nsfs nsfs rw\n501 30 0:4 net:[99999] /run/netns/b rw - nsfs nsfs rw\n`)
    expect(otherNetns(proc)).toEqual([
      { inode: aIno, path: join(proc, '42', 'ns', 'net'), where: 'pid 42 (pause?)' },
      { inode: 99999, path: '/run/netns/b', where: 'netns /run/netns/b' },
    ])
  })

  it('tame: control characters as "?", at most 200 characters', () => {
    expect(tame('a\nb\u001b[31m')).toBe('a?b?[31m')
    expect(tame('x'.repeat(300))).toHaveLength(200)
  })
})
