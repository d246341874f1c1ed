// Network namespaces by handle (system/netns.ts), as far as they go without
// root and without making a namespace: what is a namespace file, and what
// openNetns says when it cannot open one. `ip`/`nsenter` are never run here:
// exec.ts's run is replaced to see the argv.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { run, runBytes, which } from '../../../scripts/lib/system/exec.js'
import { hostNetnsPath, ipInBytes, isNetnsFile, isOwnNetns, netnsId, netnsInode, NSFS_MAGIC, openNetns, scratchNetns } from '../../../scripts/lib/system/netns.js'

vi.mock('../../../scripts/lib/system/exec.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../scripts/lib/system/exec.js')>()),
  run: vi.fn(() => ''),
  runBytes: vi.fn(() => Buffer.from('')),
}))

const tmp = mkdtempSync(join(tmpdir(), 'nicback-unit-netns-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const regular = join(tmp, 'net')
writeFileSync(regular, '')

beforeEach(() => {
  vi.mocked(run).mockClear()
  vi.mocked(runBytes).mockClear()
})

describe('isNetnsFile', () => {
  it('a regular file, a directory or a missing path is not a namespace file', () => {
    expect(isNetnsFile(regular)).toBe(false)
    expect(isNetnsFile(tmp)).toBe(false)
    expect(isNetnsFile(join(tmp, 'missing'))).toBe(false)
  })

  it("the process's own /proc/self/ns/net is (nsfs, statfs f_type NSFS_MAGIC)", () => {
    expect(NSFS_MAGIC).toBe(0x6e736673)
    expect(isNetnsFile('/proc/self/ns/net')).toBe(true)
  })
})

describe('netnsId, netnsInode, isOwnNetns', () => {
  it('identify a namespace file by device and inode', () => {
    expect(netnsId('/proc/self/ns/net')).toMatch(/^\d+:\d+$/)
    expect(netnsId(hostNetnsPath())).toBe(netnsId('/proc/self/ns/net'))
    expect(netnsInode('/proc/self/ns/net')).toBe(Number(netnsId('/proc/self/ns/net').split(':')[1]))
    expect(isOwnNetns(hostNetnsPath())).toBe(true)
    expect(isOwnNetns(regular)).toBe(false)
  })

  it('hostNetnsPath is our own pid', () => {
    expect(hostNetnsPath()).toBe(`/proc/${process.pid}/ns/net`)
  })
})

describe('openNetns', () => {
  it('a missing file: says so, naming where and the path', () => {
    const p = join(tmp, 'gone')
    expect(() => openNetns(p, 'container c1')).toThrow(`cannot open the network namespace of container c1 (${p}): no such file`)
  })

  it('a /proc path that is missing: no such process', () => {
    expect(() => openNetns(`/proc/${2 ** 30}/ns/net`, `pid ${2 ** 30}`)).toThrow(`cannot open the network namespace of pid ${2 ** 30} (/proc/${2 ** 30}/ns/net): no such process`)
  })

  it('a regular file is refused as not a namespace file', () => {
    expect(() => openNetns(regular, 'netns x')).toThrow(`${regular} is not a namespace file (a netns name under /run/netns, /proc/PID/ns/net or a bind mount of one)`)
  })

  it('our own netns: held by a descriptor of ours, closed once however often close() is called', () => {
    const ns = openNetns('/proc/self/ns/net', 'the host')
    expect(ns.path).toMatch(new RegExp(`^/proc/${process.pid}/fd/\\d+$`))
    expect(ns.where).toBe('the host')
    expect(isNetnsFile(ns.path)).toBe(true)
    ns.close()
    ns.close()
    expect(isNetnsFile(ns.path)).toBe(false)
  })
})

describe('ipInBytes', () => {
  it('runs ip inside the held namespace through nsenter', () => {
    const ns = { path: '/proc/1/fd/7', where: 'x', close() {} }
    ipInBytes(ns, ['-json', 'link'])
    expect(runBytes).toHaveBeenCalledWith('nsenter', ['--net=/proc/1/fd/7', '--', which('ip'), '-json', 'link'])
  })
})

describe('scratchNetns', () => {
  it('the named netns is deleted again whatever happens when it is opened (here: it was never made)', () => {
    expect(() => scratchNetns()).toThrow(/cannot open the network namespace of nicback's scratch namespace \(\/run\/netns\/nicback-\d+-\d+\)/)
    const calls = vi.mocked(run).mock.calls
    expect(calls).toHaveLength(2)
    const name = calls[0]![1][2]!
    expect(name).toMatch(new RegExp(`^nicback-${process.pid}-\\d+$`))
    expect(calls).toEqual([
      ['ip', ['netns', 'add', name]],
      ['ip', ['netns', 'delete', name]],
    ])
  })
})
