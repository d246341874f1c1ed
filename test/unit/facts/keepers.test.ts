// What keeps a network namespace alive: the cgroup, comm and mountinfo
// parsers, and the /proc reader against a made-up /proc.
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { awayInode, commandOf, keepersOf, MAX_LISTED, nsfsMounts, parseCgroup, pidNamespaceLimit, readKeepers, unescapeMountinfo } from '../../../scripts/lib/facts/keepers.js'
import { describeKeepers } from '../../../scripts/lib/plan/describe.js'

const ID = '0123456789abcdef'.repeat(4)
const ID2 = 'fedcba9876543210'.repeat(4)
const UID = '8f6c2a0e-1b2c-4d5e-9f00-0123456789ab'

describe('parseCgroup', () => {
  it.each([
    ['docker, systemd driver', `0::/system.slice/docker-${ID}.scope`],
    ['docker, cgroupfs driver', `0::/docker/${ID}`],
    ['containerd under CRI', `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID.replace(/-/g, '_')}.slice/cri-containerd-${ID}.scope`],
    ['CRI-O', `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replace(/-/g, '_')}.slice/crio-${ID}.scope`],
    ['podman', `0::/machine.slice/libpod-${ID}.scope/container`],
    ['nerdctl', `0::/system.slice/nerdctl-${ID}.scope`],
    ['kubepods, cgroupfs driver', `0::/kubepods/burstable/pod${UID}/${ID}`],
  ])('%s', (what, text) => {
    const kube = what.includes('CRI') || what.includes('kubepods')
    expect(parseCgroup(`${text}\n`)).toEqual({ container: ID, pod: kube ? UID : null })
  })

  it('cgroup v1: the first line that names one, the v2 line before all', () => {
    const v1 = [`12:pids:/docker/${ID}`, `11:memory:/docker/${ID}`, `1:name=systemd:/docker/${ID}`].join('\n')
    expect(parseCgroup(v1).container).toBe(ID)
    expect(parseCgroup(`3:cpu:/docker/${ID2}\n0::/docker/${ID}\n`).container).toBe(ID)
  })

  it('the outermost wins: a container naming its own sub-cgroups cannot pass for another', () => {
    expect(parseCgroup(`0::/system.slice/docker-${ID}.scope/docker-${ID2}.scope\n`).container).toBe(ID)
    expect(parseCgroup(`0::/docker/${ID}/docker/${ID2}\n`).container).toBe(ID)
  })

  it('conmon, host processes, short or upper-case ids and garbage name nothing', () => {
    for (const text of [
      `0::/machine.slice/libpod-conmon-${ID}.scope`,
      `0::/system.slice/crio-conmon-${ID}.scope`,
      '0::/user.slice/user-0.slice/session-1.scope',
      '0::/',
      `0::/docker/${ID.slice(1)}`,
      `0::/docker/${ID.toUpperCase()}`,
      `0::/docker-${ID}.scopex`,
      '',
      ':::\n\n\u0000',
      `pod${UID}`,
    ]) {
      expect(parseCgroup(text), text).toEqual({ container: null, pod: null })
    }
  })

  it('a pod UID only under kubepods', () => {
    expect(parseCgroup(`0::/x/pod${UID}/${ID}`)).toEqual({ container: ID, pod: null })
  })
})

describe('commandOf', () => {
  it('comm without its newline, else argv[0]', () => {
    expect(commandOf(Buffer.from('sleep\n'), Buffer.from('/bin/sleep\u0000300\u0000'))).toBe('sleep')
    expect(commandOf(null, Buffer.from('/bin/sleep\u0000300\u0000'))).toBe('/bin/sleep')
    expect(commandOf(Buffer.from('\n'), Buffer.from('sh'))).toBe('sh')
    expect(commandOf(null, null)).toBeNull()
    expect(commandOf(Buffer.alloc(0), Buffer.alloc(0))).toBeNull()
  })

  it('UTF-8 comes back exact (status escapes it as it writes it), other bytes as \\xNN; long ones cut by characters', () => {
    expect(commandOf(Buffer.from('a\nb\u001b[31m\n'), null)).toBe('a\nb\u001b[31m')
    expect(commandOf(Buffer.from('a\u2028b\u202e\n'), null)).toBe('a\u2028b\u202e')
    expect(commandOf(Buffer.from([0x66, 0xff, 0x0a]), null)).toBe('f\\xff')
    expect(commandOf(Buffer.from([0x66, 0x1b, 0xff, 0x0a]), null)).toBe('f\\x1b\\xff')
    expect(commandOf(null, Buffer.from('x'.repeat(1000)))).toBe(`${'x'.repeat(64)}...`)
    expect(commandOf(null, Buffer.from('\u{1f600}'.repeat(65)))).toBe(`${'\u{1f600}'.repeat(64)}...`)
  })
})

describe('mountinfo', () => {
  const text = [
    '22 27 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw',
    '612 29 0:4 net:[4026532456] /run/docker/netns/1a2b\\040c rw shared:5 - nsfs nsfs rw',
    '613 29 0:4 net:[4026532301] /run/netns/other rw shared:5 - nsfs nsfs rw',
    '614 29 0:4 net:[4026532301] /var/run/netns/other rw shared:5 - nsfs nsfs rw',
    '615 29 0:4 mnt:[4026532999] /run/mnt-ns rw - nsfs nsfs rw',
    '616 29 0:4 net:[4026532777] /a\\134b\\011c\\012d rw master:1 shared:9 - nsfs nsfs rw',
    '617 29 0:4 net:[12] /x rw - tmpfs tmpfs rw',
    '618 29 0:4 net:[13]',
    'garbage',
    '',
  ].join('\n')

  it('finds the bind mounts of network namespaces, paths unescaped and exact', () => {
    expect(nsfsMounts(text)).toEqual([
      { path: '/run/docker/netns/1a2b c', inode: 4026532456 },
      { path: '/run/netns/other', inode: 4026532301 },
      { path: '/var/run/netns/other', inode: 4026532301 },
      { path: '/a\\b\tc\nd', inode: 4026532777 },
    ])
  })

  it('unescapes octal escapes to bytes; non-UTF-8 paths are shown with \\xNN', () => {
    expect(unescapeMountinfo('/a\\040b\\134').toString('latin1')).toBe('/a b\\')
    expect(nsfsMounts('1 2 0:4 net:[5] /r\\377x rw - nsfs nsfs rw')).toEqual([{ path: '/r\\xffx', inode: 5 }])
    // UTF-8 read as latin1 comes back as itself.
    const line = Buffer.from('1 2 0:4 net:[5] /run/netns/é rw - nsfs nsfs rw').toString('latin1')
    expect(nsfsMounts(line)).toEqual([{ path: '/run/netns/é', inode: 5 }])
  })
})

describe('awayInode', () => {
  const base = { since: 'T', via: 'assign' as const, leftAs: 'eth1' }
  it('the recorded inode first', () => {
    expect(awayInode({ ...base, netnsInode: 4026532000, container: { pid: 1 } })).toEqual({ inode: 4026532000 })
  })
  it('without one: says why it cannot find the netns', () => {
    expect(awayInode({ ...base, container: { netns: '/nonexistent/nbt-x', pid: 2 ** 30 } })).toEqual({
      reason: `cannot find its network namespace: netns /nonexistent/nbt-x is gone, pid ${2 ** 30} is gone (its inode was not recorded when it left)`,
    })
    expect(awayInode({ ...base, via: 'udev' })).toMatchObject({ reason: expect.stringMatching(/via udev/) })
    expect(awayInode({ ...base, container: { name: 'web' } })).toMatchObject({ reason: expect.stringMatching(/neither its netns nor a PID/) })
    // A regular file is not a namespace file.
    expect(awayInode({ ...base, container: { netns: '/etc/hostname' } })).toMatchObject({ reason: expect.stringMatching(/netns \/etc\/hostname is gone/) })
  })
  it("the host's own netns is not where it went", () => {
    expect(awayInode({ ...base, container: { pid: process.pid } })).toMatchObject({ reason: expect.stringMatching(`pid ${process.pid} is in the host's network namespace now`) })
  })
})

describe('readKeepers, on a made-up /proc', () => {
  let dir = ''
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  /** Namespace files are hard links to one file per namespace: same inode. */
  function fakeProc(procs: { pid: number; ns: string; comm?: string; cmdline?: string; cgroup?: string }[], mountinfo = '', spare: string[] = []): { proc: string; ino: (ns: string) => number } {
    dir = mkdtempSync(join(tmpdir(), 'nicback-fakeproc-'))
    const nsFile = (ns: string) => join(dir, `ns-${ns}`)
    const ino = (ns: string) => statSync(nsFile(ns)).ino
    for (const ns of new Set(['self', ...spare, ...procs.map((p) => p.ns)])) writeFileSync(nsFile(ns), '')
    mkdirSync(join(dir, 'proc', 'self', 'ns'), { recursive: true })
    linkSync(nsFile('self'), join(dir, 'proc', 'self', 'ns', 'net'))
    for (const p of procs) {
      const d = join(dir, 'proc', String(p.pid))
      mkdirSync(join(d, 'ns'), { recursive: true })
      linkSync(nsFile(p.ns), join(d, 'ns', 'net'))
      if (p.comm !== undefined) writeFileSync(join(d, 'comm'), p.comm)
      if (p.cmdline !== undefined) writeFileSync(join(d, 'cmdline'), p.cmdline)
      if (p.cgroup !== undefined) writeFileSync(join(d, 'cgroup'), p.cgroup)
    }
    // A process that exited between readdir and stat, and other entries.
    mkdirSync(join(dir, 'proc', '999'))
    mkdirSync(join(dir, 'proc', 'sys'))
    writeFileSync(
      join(dir, 'proc', 'self', 'mountinfo'),
      mountinfo.replace(/INO\((\w+)\)/g, (_, ns: string) => String(ino(ns))),
    )
    return { proc: join(dir, 'proc'), ino }
  }

  it('processes in it by PID, with command, container and pod; its bind mounts', () => {
    const { proc, ino } = fakeProc(
      [
        { pid: 300, ns: 'a', comm: 'sleep\n', cgroup: `0::/system.slice/docker-${ID}.scope\n` },
        { pid: 42, ns: 'a', cmdline: 'pause\u0000', cgroup: `0::/kubepods/besteffort/pod${UID}/${ID2}\n` },
        { pid: 43, ns: 'b', comm: 'other\n' },
        { pid: 44, ns: 'self', comm: 'host\n' },
      ],
      '1 2 0:4 net:[INO(a)] /run/netns/a rw - nsfs nsfs rw\n3 2 0:4 net:[INO(b)] /run/netns/b rw - nsfs nsfs rw\n',
      ['c'],
    )
    const found = readKeepers([ino('a'), ino('c')], proc)
    expect(found.get(ino('a'))).toEqual({
      inode: ino('a'),
      total: 2,
      processes: [
        { pid: 42, command: 'pause', container: ID2.slice(0, 12), pod: UID },
        { pid: 300, command: 'sleep', container: ID.slice(0, 12), pod: null },
      ],
      mounts: ['/run/netns/a'],
      unreadable: 0,
    })
    expect(found.get(ino('c'))).toEqual({ inode: ino('c'), total: 0, processes: [], mounts: [], unreadable: 0 })
  })

  it(`lists at most ${MAX_LISTED} and counts the rest`, () => {
    const n = MAX_LISTED + 5
    const { proc, ino } = fakeProc(Array.from({ length: n }, (_, i) => ({ pid: 1000 + i, ns: 'a', comm: 'w\n' })))
    const k = readKeepers([ino('a')], proc).get(ino('a'))!
    expect(k.total).toBe(n)
    expect(k.processes.map((p) => p.pid)).toEqual(Array.from({ length: MAX_LISTED }, (_, i) => 1000 + i))
  })

  it('keepersOf: one entry per away NIC, with the reason when its netns cannot be found', () => {
    const { proc, ino } = fakeProc([{ pid: 7, ns: 'a', comm: 'x\n' }])
    const got = keepersOf(
      [
        { since: 'T', via: 'hook', leftAs: 'eth1', netnsInode: ino('a') },
        { since: 'T', via: 'udev', leftAs: 'eth2' },
      ],
      proc,
    )
    expect(got[0]).toEqual({ inode: ino('a'), total: 1, processes: [{ pid: 7, command: 'x', container: null, pod: null }], mounts: [], reason: null, unreadable: 0 })
    expect(got[1]).toMatchObject({ inode: null, total: 0, processes: [], mounts: [], reason: expect.stringMatching(/via udev/) })
  })

  it('counts the processes it may not look at (not root), skips those that are gone', () => {
    const { proc, ino } = fakeProc([
      { pid: 7, ns: 'a', comm: 'x\n' },
      { pid: 8, ns: 'a', comm: 'y\n' },
    ])
    // A directory without search permission: EACCES, as /proc/PID/ns is for another user (root passes).
    chmodSync(join(proc, '8'), 0o000)
    const k = readKeepers([ino('a')], proc).get(ino('a'))!
    chmodSync(join(proc, '8'), 0o755)
    const root = process.getuid?.() === 0
    expect(k).toMatchObject({ total: root ? 2 : 1, unreadable: root ? 0 : 1 })
  })
})

describe('pidNamespaceLimit: whether nicback can see every process', () => {
  it("in the host's PID namespace (inode 0xeffffffc): no limit; in one of its own (a pod without hostPID): says so and what to add", () => {
    expect(pidNamespaceLimit(() => 0xeffffffc)).toBeNull()
    expect(pidNamespaceLimit(() => 4026532900)).toMatch(/PID namespace of its own .*components\/keepers/)
    expect(
      pidNamespaceLimit(() => {
        throw new Error('no /proc')
      }),
    ).toBeNull()
  })
  it('keepersOf carries the limit for every namespace it looked at, and status says it', () => {
    const k = keepersOf([{ since: 't', via: 'assign', leftAs: 'eth1', netnsInode: 77 }], '/nonexistent-proc', 'LIMIT')
    expect(k[0]).toMatchObject({ inode: 77, total: 0, limit: 'LIMIT' })
    expect(describeKeepers(k[0]!)).toBe('no process or bind mount nicback can see holds its network namespace (net:[77]); LIMIT')
  })
})
