// The pure parts of assign / release: command lines, container engines'
// inspect output (Docker and podman fixtures), refusals, finding a NIC in a
// container's netns, temporary names, and what a wait counts as back.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { parseAssign } from '../../scripts/commands/assign.js'
import { givenTo, parseRelease } from '../../scripts/commands/release.js'
import { UsageError } from '../../scripts/lib/cli/cli.js'
import { isNoSuchContainer, parseInspect, ContainerError } from '../../scripts/lib/runtimes/engine.js'
import { findNic, MoveError } from '../../scripts/lib/apply/transit.js'
import { linksFromIpJson } from '../../scripts/lib/facts/links.js'
import { tempName } from '../../scripts/lib/facts/names.js'
import { assignRefusals, type AssignFacts } from '../../scripts/lib/plan/refusals.js'
import { describeTarget, targetPath } from '../../scripts/lib/runtimes/target.js'
import { notifyNetworkManagers } from '../../scripts/lib/apply/notify.js'
import type { Entry, Link } from '../../scripts/lib/types.js'
import { pollInterval, presentNics } from '../../scripts/lib/moments/wait.js'

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')

function link(name: string, over: Partial<Link> = {}): Link {
  return { ifindex: 2, name, altnames: [], mac: '02:00:00:00:00:01', permAddr: null, bus: null, devPort: null, driver: null, ifalias: null, kind: null, up: true, mtu: 1500, ...over }
}

function entry(name: string, over: Partial<Entry> = {}): Entry {
  return { name, bus: null, devPort: null, permAddr: null, mac: '02:00:00:00:00:01', ifindex: 2, driver: null, mtu: 1500, up: true, recordedAt: 't', away: null, ...over }
}

describe('nicback assign command line', () => {
  test('one NIC and exactly one of --to, --pid, --netns', () => {
    expect(parseAssign(['ens3', '--to', 'c1', '--as', 'ens4'])).toEqual({ iface: 'ens3', target: { container: { name: 'c1' } }, insideName: 'ens4', force: false, json: false })
    expect(parseAssign(['ens3', '--pid', '4242', '--force', '--json'])).toEqual({ iface: 'ens3', target: { pid: 4242 }, insideName: undefined, force: true, json: true })
    expect(parseAssign(['--netns', '/proc/7/ns/net', 'ens3']).target).toEqual({ netns: '/proc/7/ns/net' })
    expect(parseAssign(['ens3', '--netns', 'ctr']).target).toEqual({ netns: 'ctr' })
  })

  test.each([
    [[], 'name the NIC'],
    [['ens3'], 'say where it goes'],
    [['ens3', 'ens4', '--pid', '1'], 'one NIC at a time'],
    [['ens3', '--pid', '1', '--netns', 'x'], 'give one of --to, --pid, --netns (got --pid, --netns)'],
    [['ens3', '--to', 'c1', '--netns', 'x'], 'got --to, --netns'],
    [['ens3', '--pid', '0'], 'needs a process id'],
    [['ens3', '--pid', '12abc'], 'needs a process id'],
    [['ens3', '--pid', '99999999999999999999'], 'needs a process id'],
    [['ens3', '--to', ''], '--to needs'],
    [['ens3', '--netns', ''], '--netns needs'],
    [['ens3', '--to', 'c1', '--as', 'eth:0'], 'not a valid interface name'],
    [['ens3', '--to', 'c1', '--as', 'a23456789012345x'], 'not a valid interface name'],
    [['ens/3', '--to', 'c1'], 'not a valid interface name'],
    [['ens3', '--to', 'c1', '--nope'], "Unknown option '--nope'"],
    [['ens3', '--to'], "'--to <value>' argument missing"],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseAssign(argv)).toThrow(UsageError)
    expect(() => parseAssign(argv)).toThrow(message)
  })
})

describe('nicback release command line', () => {
  test('names, or --from; a timeout in seconds', () => {
    expect(parseRelease(['ens3', 'ens5'])).toEqual({ names: ['ens3', 'ens5'], from: undefined, timeoutMs: 30_000, json: false })
    expect(parseRelease(['--from', 'c1', '--timeout', '2.5', '--json'])).toEqual({ names: [], from: 'c1', timeoutMs: 2500, json: true })
  })

  test.each([
    [[], 'name the NIC(s)'],
    [['ens3', '--from', 'c1'], 'not both'],
    [['--from', ''], '--from needs'],
    [['ens3', '--timeout', '0'], '--timeout needs'],
    [['ens3', '--timeout=-1'], '--timeout needs'],
    [['ens3', '--timeout', '-1'], 'argument is ambiguous'],
    [['ens3', '--timeout', 'x'], '--timeout needs'],
    [['ens3', '--timeout', ' '], '--timeout needs'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseRelease(argv)).toThrow(UsageError)
    expect(() => parseRelease(argv)).toThrow(message)
  })

  test('which recorded NICs were given to the container asked for', () => {
    const id = '4f1d2c3b5a69e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3'
    const info = parseInspect(fixture('docker-inspect.json'), 'docker', 'centos7')
    expect(givenTo({ id, name: 'centos7', pid: 1 }, 'centos7', info)).toBe(true)
    expect(givenTo({ id, pid: 1 }, 'centos7', info)).toBe(true) // by id, as the engine knows it
    expect(givenTo({ name: 'centos7' }, 'x', info)).toBe(true)
    // The container is gone: what was typed against what was recorded.
    expect(givenTo({ id, name: 'centos7' }, 'centos7', null)).toBe(true)
    expect(givenTo({ id, name: 'centos7' }, id, null)).toBe(true)
    expect(givenTo({ id, name: 'centos7' }, '4f1d2c3b', null)).toBe(true)
    expect(givenTo({ id, name: 'centos7' }, '4f1', null)).toBe(false) // too short a prefix
    expect(givenTo({ id, name: 'centos7' }, 'centos', null)).toBe(false)
    expect(givenTo({ pid: 4242 }, '4242', null)).toBe(false)
    expect(givenTo(undefined, 'centos7', info)).toBe(false)
  })
})

describe('container engines: inspect output', () => {
  test('docker inspect (array, name with a leading slash)', () => {
    expect(parseInspect(fixture('docker-inspect.json'), 'docker', 'centos7')).toEqual({
      engine: 'docker',
      id: '4f1d2c3b5a69e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3',
      name: 'centos7',
      pid: 4242,
      running: true,
      status: 'running',
      networkMode: 'none',
    })
  })

  test('podman inspect (array, plain name, OCI fields)', () => {
    expect(parseInspect(fixture('podman-inspect.json'), 'podman', 'web')).toEqual({
      engine: 'podman',
      id: 'b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3',
      name: 'web',
      pid: 5151,
      running: true,
      status: 'running',
      networkMode: 'bridge',
    })
  })

  test("inspect --format '{{json .State}}': the reference stands in for the name", () => {
    expect(parseInspect(fixture('docker-state.json'), 'docker', 'c9')).toEqual({ engine: 'docker', id: null, name: 'c9', pid: 6060, running: true, status: 'running', networkMode: null })
  })

  test('one object instead of an array; a stopped container has no PID', () => {
    const one = JSON.stringify(JSON.parse(fixture('docker-inspect-exited-host.json'))[0])
    expect(parseInspect(one, 'docker', 'hostnet')).toMatchObject({ name: 'hostnet', pid: 0, running: false, status: 'exited', networkMode: 'host' })
  })

  test.each([
    ['not json', 'cannot read docker'],
    ['[]', 'returned 0 objects'],
    ['[{"State":{"Pid":1}},{"State":{"Pid":2}}]', 'returned 2 objects'],
    ['[{"Id":"x"}]', 'has no State'],
    ['"x"', 'is not an object'],
  ])('%s is refused', (text, message) => {
    expect(() => parseInspect(text, 'docker', 'c1')).toThrow(ContainerError)
    expect(() => parseInspect(text, 'docker', 'c1')).toThrow(message)
  })

  test('the engines\' "no such container" answers', () => {
    expect(isNoSuchContainer('Error: No such container: c1')).toBe(true)
    expect(isNoSuchContainer('Error: No such object: c1')).toBe(true)
    expect(isNoSuchContainer('Error response from daemon: No such container: c1')).toBe(true)
    expect(isNoSuchContainer('Error: no such container c1')).toBe(true)
    expect(isNoSuchContainer('Error: no container with name or ID "c1" found: no such container')).toBe(true)
    expect(isNoSuchContainer('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?')).toBe(false)
    expect(isNoSuchContainer('permission denied while trying to connect to the Docker daemon socket')).toBe(false)
  })
})

describe('targets', () => {
  test('a PID, a netns name or a path', () => {
    expect(targetPath({ pid: 42 })).toBe('/proc/42/ns/net')
    expect(targetPath({ netns: 'ctr' })).toBe('/run/netns/ctr')
    expect(targetPath({ netns: '/var/run/docker/netns/9a8b' })).toBe('/var/run/docker/netns/9a8b')
    expect(targetPath({ pid: 42, container: { id: 'abc', name: 'c1' } })).toBe('/proc/42/ns/net')
    expect(() => targetPath({})).toThrow(MoveError)
    expect(() => targetPath({ pid: 1, netns: 'x' })).toThrow('not both')
    expect(() => targetPath({ pid: -1 })).toThrow('not a process id')
    expect(describeTarget({ pid: 42, container: { name: 'c1' } })).toBe('container c1')
    expect(describeTarget({ pid: 42, container: { id: '0123456789abcdef0123' } })).toBe('container 0123456789ab')
    expect(describeTarget({ pid: 42 })).toBe('pid 42')
    expect(describeTarget({ netns: 'ctr' })).toBe('netns ctr')
  })
})

describe('refusals', () => {
  const pci = link('ens3', { bus: '0000:00:03.0', permAddr: '52:54:00:00:00:10', mac: '52:54:00:00:00:10' })
  const facts = (over: Partial<AssignFacts> = {}): AssignFacts => ({ hostName: 'ens3', link: pci, recorded: undefined, wireless: false, insideName: 'ens3', inside: [], where: 'container c1', ...over })

  test('a PCI NIC the host does not use: none', () => {
    expect(assignRefusals(facts({ use: { defaultRoute: false, addresses: [] } }))).toEqual({ fatal: [], overridable: [] })
  })

  test('what --force overrides: virtual, default route, host addresses, recorded as away', () => {
    const r = assignRefusals(
      facts({
        link: link('ens3'),
        use: { defaultRoute: true, addresses: ['192.0.2.7', '2001:db8::7'] },
        recorded: entry('ens3', { away: { since: 't', via: 'udev', leftAs: 'ens3' } }),
      }),
    )
    expect(r.fatal).toEqual([])
    expect(r.overridable).toHaveLength(4)
    expect(r.overridable.join('\n')).toMatch(/recorded it as away[^]*virtual device[^]*default route[^]*addresses 192\.0\.2\.7, 2001:db8::7/)
  })

  test('what nothing overrides: netns-local kinds, wireless, fallback names, a name taken inside', () => {
    expect(assignRefusals(facts({ link: link('br0', { kind: 'bridge' }), hostName: 'br0' })).fatal[0]).toContain('br0 is a bridge device')
    expect(assignRefusals(facts({ link: link('bond0', { kind: 'bond' }), hostName: 'bond0' })).fatal[0]).toContain('bond device')
    expect(assignRefusals(facts({ wireless: true })).fatal[0]).toContain('iw phy')
    expect(assignRefusals(facts({ hostName: 'dev3' })).fatal[0]).toContain('kernel fallback')
    // ...unless it was recorded under that name on purpose (record --force).
    expect(assignRefusals(facts({ hostName: 'dev3', recorded: entry('dev3') })).fatal).toEqual([])
    expect(assignRefusals(facts({ inside: [link('ens3')] })).fatal[0]).toContain('"ens3" is already a device in container c1: give it another name there with --as NAME')
    expect(assignRefusals(facts({ insideName: 'eth0', inside: [link('enp0s3', { altnames: ['eth0'] })] })).fatal[0]).toContain('"eth0" is already an altname of enp0s3 in container c1: choose another --as NAME')
    // lo is in every netns, though the NIC lists leave it out
    expect(assignRefusals(facts({ insideName: 'lo', inside: [] })).fatal[0]).toContain('"lo" is already a device in container c1')
    expect(assignRefusals(facts({ insideName: 'bad name' })).fatal[0]).toContain('not a valid interface name')
  })
})

describe('finding a recorded NIC inside a container', () => {
  const away = { since: 't', via: 'assign' as const, leftAs: 'ens3', insideName: 'eth0' }

  test('by bus whatever its name and MAC', () => {
    const rec = entry('ens3', { bus: '0000:00:03.0', away })
    const inside = [link('eth0', { ifindex: 9, bus: '0000:00:04.0' }), link('lan', { ifindex: 3, bus: '0000:00:03.0', mac: '02:99:00:00:00:01' })]
    expect(findNic(rec, inside)?.ifindex).toBe(3)
  })

  test('a virtual stand-in (MAC only) whose MAC the container changed: by the ifindex it left with, never by a name (issue 8)', () => {
    const rec = entry('ens3', { away })
    expect(findNic(rec, [link('eth0', { ifindex: 9, mac: '02:99:99:99:99:99' })])).toBeUndefined()
    expect(findNic(rec, [link('lan', { ifindex: 2, mac: '02:99:99:99:99:99' })])?.name).toBe('lan')
    expect(findNic(rec, [link('eth0', { ifindex: 2, mac: '02:99:99:99:99:99', bus: '0000:00:05.0' })])).toBeUndefined()
    // of two with its MAC, the one with the ifindex that left, never a look-alike
    expect(findNic(rec, [link('eth0', { ifindex: 7 }), link('eth9')])?.name).toBe('eth9')
    expect(findNic(rec, [link('eth0')])?.name).toBe('eth0')
  })

  test('a NIC known by bus is never found by name', () => {
    const rec = entry('ens3', { bus: '0000:00:03.0', away })
    expect(findNic(rec, [link('eth0')])).toBeUndefined()
  })

  test('two ports of one function: the name hint decides, else nothing', () => {
    const rec = entry('ens3', { bus: '0000:00:03.0', away })
    const two = [link('eth0', { ifindex: 3, bus: '0000:00:03.0' }), link('eth1', { ifindex: 4, bus: '0000:00:03.0' })]
    expect(findNic(rec, two)?.ifindex).toBe(3)
    expect(findNic(entry('ens3', { bus: '0000:00:03.0', away: { ...away, insideName: 'x' } }), two)).toBeUndefined()
  })

  test('links from ip -json -details run in another netns: bus from the parent device', () => {
    const raw = [
      { ifindex: 1, ifname: 'lo', mtu: 65536, link_type: 'loopback', address: '00:00:00:00:00:00' },
      { ifindex: 7, ifname: 'eth0', mtu: 9000, flags: ['BROADCAST', 'UP'], address: '02:00:00:00:00:07', permaddr: '52:54:00:00:00:11', parentbus: 'virtio', parentdev: 'virtio1', altnames: ['enp0s4'] },
      { ifindex: 8, ifname: 'veth0', mtu: 1500, flags: ['BROADCAST'], address: '02:00:00:00:00:08', linkinfo: { info_kind: 'veth' } },
    ]
    const links = linksFromIpJson(raw, (bus, dev) => (bus === 'virtio' && dev === 'virtio1' ? '0000:00:04.0' : null))
    expect(links).toEqual([
      { ifindex: 7, name: 'eth0', altnames: ['enp0s4'], mac: '02:00:00:00:00:07', permAddr: '52:54:00:00:00:11', bus: '0000:00:04.0', devPort: null, driver: null, ifalias: null, kind: null, up: true, mtu: 9000 },
      { ifindex: 8, name: 'veth0', altnames: [], mac: '02:00:00:00:00:08', permAddr: null, bus: null, devPort: null, driver: null, ifalias: null, kind: 'veth', up: false, mtu: 1500 },
    ])
  })

  test('temporary names: nbtmp<ifindex>, free on both sides, at most 15 bytes', () => {
    expect(tempName(7, new Set())).toBe('nbtmp7')
    expect(tempName(7, new Set(['nbtmp7']))).toBe('nbt7x1')
    expect(tempName(7, new Set(['nbtmp7', 'nbt7x1']))).toBe('nbt7x2')
    expect(tempName(1234567890, new Set())).toBe('nbtmp1234567890')
    expect(tempName(12345678901, new Set())).toBe('nbt12345678901x1')
  })
})

describe('waiting for NICs to come back', () => {
  test('a recorded NIC is back under any name, recognised by identity; an unknown name by itself', () => {
    const entries = [entry('ens3', { bus: '0000:00:03.0' }), entry('ens5', { bus: '0000:00:05.0' })]
    const links = [link('dev3', { bus: '0000:00:03.0' }), link('eth9')]
    expect(presentNics(['ens3', 'ens5', 'eth9', 'eth8'], entries, links)).toEqual(['ens3', 'eth9'])
  })

  test('the backstop poll interval', () => {
    expect(pollInterval(undefined)).toBe(2000)
    expect(pollInterval('60000')).toBe(60000)
    expect(pollInterval('nope')).toBe(2000)
    expect(pollInterval('0')).toBe(2000)
  })
})

describe('telling the network manager', () => {
  test('a udev change event for the NIC, only when udevd runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nicback-notify-'))
    try {
      const calls: string[][] = []
      const runner = (cmd: string, args: string[]) => void calls.push([cmd, ...args])
      expect(notifyNetworkManagers('ens3', { control: join(dir, 'control'), runner })).toBe(false)
      expect(calls).toEqual([])
      writeFileSync(join(dir, 'control'), '')
      expect(notifyNetworkManagers('ens3', { control: join(dir, 'control'), runner })).toBe(true)
      expect(calls).toEqual([['udevadm', 'trigger', '--action=change', '--sysname-match=ens3', '--subsystem-match=net']])
      const failing = () => {
        throw new Error('udevadm: no')
      }
      expect(notifyNetworkManagers('ens3', { control: join(dir, 'control'), runner: failing })).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
