// nicback assign / release against real kernel state. The "host" is a netns
// with veth stand-ins (world.ts); "containers" are netns files, processes in
// a netns of their own (unshare), and containers of fake Docker / podman
// binaries that answer `container inspect` with fixtures pointing at such a
// process. The stand-ins are virtual devices (no bus), which assign refuses
// without --force: every happy path here passes --force, and the refusal
// itself is tested on its own.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { createWorld, destroyWorlds, ensureBuilt, macOf, NICBACK, NODE, type IpLink, type RunResult, type StatusJson, type World } from './world.js'

beforeAll(ensureBuilt)

const procs: ChildProcess[] = []
afterEach(() => {
  for (const p of procs.splice(0)) p.kill('SIGKILL')
  destroyWorlds()
})

// Fake container engines: `docker|podman container inspect REF` prints
// $DIR/REF.json or says "no such container" the way each engine does.
const fake = mkdtempSync(join(tmpdir(), 'nicback-fake-engines-'))
afterAll(() => rmSync(fake, { recursive: true, force: true }))
const engineDir = (engine: string) => join(fake, `${engine}-containers`)
for (const [engine, noSuch] of [
  ['docker', 'Error: No such container: $2'],
  ['podman', 'Error: no container with name or ID "$2" found: no such container'],
] as const) {
  spawnSync('mkdir', ['-p', join(fake, 'bin'), engineDir(engine)])
  const script = `#!/bin/sh\n[ "$1" = container ] && [ "$2" = inspect ] || { echo "fake ${engine}: $*" >&2; exit 2; }\nshift\nf="${engineDir(engine)}/$2.json"\n[ -f "$f" ] && exec cat "$f"\necho "${noSuch}" >&2\nexit 1\n`
  writeFileSync(join(fake, 'bin', engine), script)
  chmodSync(join(fake, 'bin', engine), 0o755)
}
const ENGINES = { PATH: `${join(fake, 'bin')}:${process.env.PATH}` }

function dockerContainer(name: string, pid: number): string {
  const id = `${'c0ffee'.repeat(10)}${String(pid).padStart(4, '0')}`
  const json = JSON.stringify([{ Id: id, Name: `/${name}`, State: { Status: 'running', Running: true, Pid: pid }, HostConfig: { NetworkMode: 'none' } }])
  for (const ref of [name, id]) writeFileSync(join(engineDir('docker'), `${ref}.json`), json)
  return id
}

function podmanContainer(name: string, pid: number): string {
  const id = `${'beef'.repeat(15)}${String(pid).padStart(4, '0')}`
  const json = JSON.stringify([{ Id: id, Name: name, State: { OciVersion: '1.2.0', Status: 'running', Running: true, Pid: pid, ConmonPid: 1 }, HostConfig: { NetworkMode: 'bridge' } }])
  for (const ref of [name, id]) writeFileSync(join(engineDir('podman'), `${ref}.json`), json)
  return id
}

const nsInode = (path: string) => statSync(path).ino

/** A process in a netns of its own, a child of the host netns (as a
 *  container's init is); or, with `share`, in the host's netns itself. */
async function sleeper(w: World, share = false): Promise<number> {
  const argv = ['netns', 'exec', w.host, ...(share ? [] : ['unshare', '--net']), 'sleep', '1000']
  const p = spawn('ip', argv, { stdio: 'ignore' })
  procs.push(p)
  const pid = p.pid!
  const host = nsInode(`/run/netns/${w.host}`)
  const want = (ino: number) => (share ? ino === host : ino !== host && ino !== nsInode('/proc/self/ns/net'))
  for (let i = 0; i < 200; i++) {
    try {
      if (want(nsInode(`/proc/${pid}/ns/net`)) && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep') return pid
    } catch {
      // not started yet
    }
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error('the sleeper did not start')
}

/** Devices in the netns of a process. */
function linksOfPid(pid: number): IpLink[] {
  const out = spawnSync('nsenter', ['-t', String(pid), '-n', 'ip', '-json', 'link', 'show'], { encoding: 'utf8' })
  if (out.status !== 0) throw new Error(out.stderr)
  return (JSON.parse(out.stdout) as IpLink[]).filter((l) => l.link_type !== 'loopback')
}

interface Registry {
  nics: { name: string; mac: string | null; mtu: number | null; up: boolean | null; away: null | { via: string; leftAs: string; insideName?: string; container?: Record<string, unknown> } }[]
}
const registry = (w: World): Registry => JSON.parse(w.registryText() || '{"nics":[]}') as Registry
const entry = (w: World, name: string) => registry(w).nics.find((e) => e.name === name)

function ok(r: RunResult): RunResult {
  expect(r.code, `exit ${r.code}\n${r.stdout}\n${r.stderr}`).toBe(0)
  return r
}

function refused(r: RunResult, ...words: string[]): string {
  expect(r.code, `exit ${r.code}\n${r.stdout}\n${r.stderr}`).toBe(1)
  for (const word of words) expect(r.stderr).toContain(word)
  return r.stderr
}

/** Host link names seen while something runs (world.watchLinks). */
async function watchHost(w: World): Promise<{ stop: () => Promise<string[]> }> {
  const mon = await w.watchLinks()
  return {
    async stop() {
      // "7: eth1@if8: <...>" or "Deleted 7: eth1@if8: ..."
      return (await mon.stop()).map((l) => /^(?:Deleted )?\d+: ([^:@\s]+)/.exec(l)?.[1]).filter((n): n is string => n !== undefined)
    },
  }
}

describe('assign and release, the clean way', () => {
  test('by netns path with --as; release restores name, MAC, MTU and up after the container changed them, and the host never sees devN', async () => {
    const w = createWorld()
    const ctr = w.container('a')
    const before = w.link('eth1')
    const r = ok(w.nicback(['assign', 'eth1', '--netns', `/run/netns/${ctr}`, '--as', 'ens9', '--force']))
    expect(r.stdout).toContain('as ens9')
    expect(w.where().eth1).toBeNull()
    const inside = w.links(ctr).find((l) => l.ifname === 'ens9')
    expect(inside).toMatchObject({ address: macOf(1), mtu: 1500 })
    expect(inside!.flags).toContain('UP')
    expect(entry(w, 'eth1')).toMatchObject({ mac: macOf(1), mtu: 1500, up: true, away: { via: 'assign', leftAs: 'eth1', insideName: 'ens9', container: { netns: `/run/netns/${ctr}` } } })
    const status = w.nicbackJson<StatusJson[]>(['status'])
    expect(status.json.find((s) => s.recordedName === 'eth1')).toMatchObject({ state: 'away', name: null, container: { netns: `/run/netns/${ctr}` } })

    // The container changes what it may change, and has an eth1 of its own:
    // the NIC cannot travel under its host name, it takes nbtmp<ifindex>.
    w.ip('-n', ctr, 'link', 'set', 'ens9', 'address', '02:00:00:00:99:99', 'mtu', '1400')
    w.ip('-n', ctr, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'x1')
    const mon = await watchHost(w)
    const back = ok(w.nicback(['release', 'eth1']))
    const seen = await mon.stop()
    expect(back.stdout).toContain('eth1 is home, taken out of')
    // Out through nicback's scratch netns, straight to its host name (issue 8).
    expect(back.stdout).toMatch(/move "ens9" out of netns /)
    expect(back.stdout).toContain('move it to the host as "eth1"')
    expect(seen).toContain('eth1')
    expect(seen.filter((n) => /^dev\d+$/.test(n))).toEqual([])
    expect(seen.filter((n) => n !== 'eth1' && n !== 'eth3' && !/^nbtmp\d+$/.test(n))).toEqual([])

    const home = w.link('eth1')
    expect(home).toMatchObject({ address: macOf(1), mtu: 1500 })
    expect(home.flags).toContain('UP')
    expect(home.ifindex).toBe(before.ifindex)
    expect(
      w
        .links(ctr)
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['eth1', 'x1'])
    expect(entry(w, 'eth1')?.away).toBeNull()
    expect(w.where()).toEqual(w.allHome())
  })

  test('by netns NAME keeping its name; a NIC that was down comes back down, and the host sees no other name than its own', async () => {
    const w = createWorld()
    const ctr = w.container('b')
    w.hostIp('link', 'set', 'eth2', 'down')
    ok(w.nicback(['assign', 'eth2', '--netns', ctr, '--force']))
    const inside = w.links(ctr).find((l) => l.ifname === 'eth2')
    expect(inside?.flags).not.toContain('UP')
    expect(entry(w, 'eth2')?.away).toMatchObject({ container: { netns: `/run/netns/${ctr}` } })
    expect(entry(w, 'eth2')?.away?.insideName).toBeUndefined()
    w.ip('-n', ctr, 'link', 'set', 'eth2', 'up', 'name', 'eth0')
    const mon = await watchHost(w)
    const r = ok(w.nicback(['release', 'eth2']))
    const seen = await mon.stop()
    expect(r.stdout).toContain('move "eth0" out of netns')
    expect(r.stdout).toContain('move it to the host as "eth2"')
    expect([...new Set(seen)].filter((n) => n !== 'eth3')).toEqual(['eth2'])
    expect(w.link('eth2').flags).not.toContain('UP')
    expect(w.where()).toEqual(w.allHome())
    // Releasing a NIC that is home does nothing and says so.
    expect(ok(w.nicback(['release', 'eth2'])).stdout).toContain('already home')
  })

  test('by PID, and --to a Docker container; status shows the container; release --from takes back every NIC in it', async () => {
    const w = createWorld()
    const pid = await sleeper(w)
    ok(w.nicback(['assign', 'eth1', '--pid', String(pid), '--as', 'ens5', '--force']))
    expect(linksOfPid(pid).map((l) => [l.ifname, l.address])).toEqual([['ens5', macOf(1)]])
    expect(entry(w, 'eth1')?.away?.container).toEqual({ pid })

    const id = dockerContainer('c1', pid)
    const r = w.nicbackJson<{ container: unknown; where: string; insideName: string }>(['assign', 'eth2', '--to', 'c1', '--as', 'eth0', '--force'], ENGINES)
    expect(r.code, r.stderr).toBe(0)
    expect(r.json).toMatchObject({ where: 'container c1', insideName: 'eth0', container: { id, name: 'c1', pid } })
    expect(
      linksOfPid(pid)
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['ens5', 'eth0'])
    const status = w.nicbackJson<StatusJson[]>(['status'])
    expect(status.json.find((s) => s.recordedName === 'eth2')).toMatchObject({ state: 'away', container: { id, name: 'c1', pid } })
    expect(w.nicback(['status']).stdout).toMatch(/eth2 .*away.* to c1 \(named eth0 there\)/)

    const back = ok(w.nicback(['release', '--from', 'c1'], ENGINES))
    expect(back.stdout).toContain('eth2 is home, taken out of container c1')
    expect(back.stdout).toContain('eth1 is home, taken out of container c1')
    expect(linksOfPid(pid)).toEqual([])
    expect(w.where()).toEqual(w.allHome())
    expect(registry(w).nics.every((e) => e.away === null)).toBe(true)
  })

  test('--to a podman container (Docker does not know it); release by name finds it through podman again', async () => {
    const w = createWorld()
    const pid = await sleeper(w)
    const id = podmanContainer('p1', pid)
    ok(w.nicback(['assign', 'eth3', '--to', 'p1', '--force'], ENGINES))
    expect(entry(w, 'eth3')?.away?.container).toEqual({ id, name: 'p1', pid })
    expect(linksOfPid(pid).map((l) => l.ifname)).toEqual(['eth3'])
    ok(w.nicback(['release', 'eth3'], ENGINES))
    expect(w.where()).toEqual(w.allHome())
  })
})

describe('release when the container is already gone', () => {
  test('waits for the kernel to hand the NIC back, ends on the link event (not a poll), restores it; gives up after --timeout', async () => {
    const w = createWorld()
    const ctr = w.container('gone')
    ok(w.nicback(['assign', 'eth1', '--netns', ctr, '--as', 'eth0', '--force']))
    w.ip('-n', ctr, 'link', 'set', 'eth0', 'mtu', '1400')
    const idx = w.ifindexIn(ctr, 'eth1')
    // A process keeps the netns alive once its name is gone: to nicback the
    // container is gone, its NIC not back yet (a pinned or slow teardown).
    const keeper = spawn('ip', ['netns', 'exec', ctr, 'sleep', '1000'], { stdio: 'ignore' })
    procs.push(keeper)
    // Ready once `ip netns exec` has become the sleep inside the netns.
    for (let i = 0; !readFileSync(`/proc/${keeper.pid}/comm`, 'utf8').startsWith('sleep'); i++) {
      if (i > 400) throw new Error('the keeper did not start')
      await new Promise((r) => setTimeout(r, 5))
    }
    w.ip('netns', 'del', ctr)

    const t = performance.now()
    const late = w.nicback(['release', 'eth1', '--timeout', '0.5'])
    refused(late, 'eth1 did not come back within 0.5 s')
    expect(performance.now() - t).toBeLessThan(5000)
    expect(entry(w, 'eth1')?.away).not.toBeNull()

    // The backstop poll is set to a minute, beyond the timeout: only the
    // link event can end the wait in time.
    const env = { ...process.env, NICBACK_STATE_DIR: w.state, NICBACK_WAIT_POLL_MS: '60000' }
    const child = spawn('ip', ['netns', 'exec', w.host, NODE, NICBACK, 'release', 'eth1', '--timeout', '30'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    procs.push(child)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    const waiting = new Promise<void>((resolve) =>
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d
        if (stderr.includes('waiting up to 30 s')) resolve()
      }),
    )
    const run = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)))
    await waiting
    // No signal says when release's own `ip monitor` listens: a moment for it
    // (the test proves the wait ends on the event, with the poll set long).
    await new Promise((r) => setTimeout(r, 300))
    const t0 = performance.now()
    // The kernel's way: back to the host as dev<ifindex>, down.
    spawnSync('nsenter', ['-t', String(keeper.pid), '-n', 'ip', 'link', 'set', 'eth0', 'netns', `/run/netns/${w.host}`, 'name', `dev${idx}`])
    const code = await run
    const ms = performance.now() - t0
    expect(code, `${stdout}\n${stderr}`).toBe(0)
    expect(stdout).toContain('eth1 is home, handed back by the kernel')
    expect(ms).toBeLessThan(5000)
    const home = w.link('eth1')
    expect(home).toMatchObject({ mtu: 1500, address: macOf(1) })
    expect(home.flags).toContain('UP')
    expect(w.links().some((l) => /^dev\d+$/.test(l.ifname))).toBe(false)
    expect(entry(w, 'eth1')?.away).toBeNull()
  })
})

describe('assign refuses', () => {
  test('a virtual device without --force, and says when it carries the default route or a host address', async () => {
    const w = createWorld()
    const ctr = w.container('r')
    // Carrier and IPv6 link-local addresses, but no default route: nothing
    // is "the default NIC" (systeminformation would name the first one).
    w.batch(w.wire, ['link set p0 up', 'link set p1 up'])
    for (let i = 0; !/fe80::/.test(w.hostIp('-6', 'address', 'show', 'dev', 'eth0')); i++) {
      if (i > 100) throw new Error('no IPv6 link-local address on eth0')
      await new Promise((r) => setTimeout(r, 20))
    }
    const none = refused(w.nicback(['assign', 'eth0', '--netns', ctr]), 'virtual device', '--force')
    expect(none).not.toMatch(/default route|address/)

    w.hostIp('address', 'add', '10.77.0.2/24', 'dev', 'eth0')
    w.hostIp('route', 'add', 'default', 'via', '10.77.0.1')
    w.hostIp('address', 'add', '10.78.0.2/24', 'dev', 'eth1')
    w.hostIp('-6', 'address', 'add', 'fd00:78::2/64', 'dev', 'eth1', 'nodad')
    const e0 = refused(w.nicback(['assign', 'eth0', '--netns', ctr]), 'virtual device', 'default route', '10.77.0.2', '--force')
    expect(e0).toContain('refusing to move eth0')
    const e1 = refused(w.nicback(['assign', 'eth1', '--netns', ctr]), 'virtual device', '10.78.0.2', 'fd00:78::2', '--force')
    expect(e1).not.toContain('default route')
    const e2 = refused(w.nicback(['assign', 'eth2', '--netns', ctr]), 'virtual device', '--force')
    expect(e2).not.toMatch(/default route|address/)
    expect(w.where()).toEqual(w.allHome())
    expect(w.links(ctr)).toEqual([])
    expect(registry(w).nics).toEqual([])
  })

  test('a NIC already away, the host netns itself, a name taken inside, a netns-local device: even with --force', async () => {
    const w = createWorld()
    const ctr = w.container('x')
    ok(w.nicback(['assign', 'eth1', '--netns', ctr, '--force']))
    const reg = w.registryText()
    refused(w.nicback(['assign', 'eth1', '--netns', ctr, '--force']), 'eth1 is already away', 'nicback release eth1')

    const same = await sleeper(w, true)
    refused(w.nicback(['assign', 'eth2', '--pid', String(same), '--force']), "this host's own network namespace")

    w.ip('-n', ctr, 'link', 'add', 'ens9', 'type', 'veth', 'peer', 'name', 'x9')
    refused(w.nicback(['assign', 'eth2', '--netns', ctr, '--as', 'ens9', '--force']), '"ens9" is already a device in netns', 'choose another --as')
    refused(w.nicback(['assign', 'eth2', '--netns', ctr, '--as', 'eth1', '--force']), '"eth1" is already a device in netns')
    w.ip('-n', ctr, 'link', 'set', 'x9', 'name', 'eth2')
    refused(w.nicback(['assign', 'eth2', '--netns', ctr, '--force']), '"eth2" is already a device', 'with --as NAME')

    w.hostIp('link', 'add', 'br0', 'type', 'bridge')
    refused(w.nicback(['assign', 'br0', '--netns', ctr, '--force']), 'br0 is a bridge device')
    expect(w.links().some((l) => l.ifname === 'br0')).toBe(true)

    refused(w.nicback(['assign', 'eth7', '--netns', ctr, '--force']), 'no network device named eth7')
    refused(w.nicback(['assign', 'eth2', '--netns', `${ctr}-nope`, '--force']), 'cannot open the network namespace', 'no such file')
    refused(w.nicback(['assign', 'eth2', '--netns', '/etc/hostname', '--force']), 'not a namespace file')
    refused(w.nicback(['assign', 'eth2', '--pid', '999999999', '--force']), 'no such process')

    expect(w.registryText()).toBe(reg)
    expect(w.where()).toEqual({ ...w.allHome(), eth1: null })
  })
})

describe('a failed step is undone', () => {
  test('assign: the move, or bringing it up inside, fails: the NIC is on the host as before and the registry as it was', () => {
    const w = createWorld()
    const ctr = w.container('f')
    ok(w.nicback(['record', 'eth1']))
    const reg = w.registryText()
    const before = w.link('eth1')
    for (const at of ['move', 'up']) {
      const r = refused(w.nicback(['assign', 'eth1', '--netns', ctr, '--as', 'ens9', '--force'], { NICBACK_FAIL_AT: at }), 'injected failure', 'undone')
      expect(r).toContain(at === 'move' ? 'failed to move "eth1"' : 'failed to set "ens9" up')
      expect(w.link('eth1')).toMatchObject({ ifindex: before.ifindex, address: before.address, mtu: before.mtu })
      expect(w.link('eth1').flags).toContain('UP')
      expect(w.links(ctr)).toEqual([])
      expect(w.registryText()).toBe(reg)
    }
    expect(w.where()).toEqual(w.allHome())
  })

  test('release: the move out fails: the NIC stays in the container as it was there', () => {
    const w = createWorld()
    const ctr = w.container('g')
    ok(w.nicback(['assign', 'eth1', '--netns', ctr, '--as', 'ens9', '--force']))
    w.ip('-n', ctr, 'link', 'set', 'ens9', 'address', '02:00:00:00:99:98')
    const r = refused(w.nicback(['release', 'eth1'], { NICBACK_FAIL_AT: 'move-out' }), 'injected failure', 'still in netns')
    expect(r).toContain('as "ens9"')
    const inside = w.links(ctr)
    expect(inside.map((l) => [l.ifname, l.address])).toEqual([['ens9', '02:00:00:00:99:98']])
    expect(inside[0]!.flags).toContain('UP')
    expect(entry(w, 'eth1')?.away).not.toBeNull()
    ok(w.nicback(['release', 'eth1']))
    expect(w.where()).toEqual(w.allHome())
    expect(w.link('eth1').address).toBe(macOf(1))
  })

  test('release refuses while another device holds the host name', () => {
    const w = createWorld()
    const ctr = w.container('h')
    ok(w.nicback(['assign', 'eth1', '--netns', ctr, '--force']))
    w.hostIp('link', 'set', 'eth2', 'name', 'eth1')
    refused(w.nicback(['release', 'eth1']), '"eth1" is now the name of eth1', 'rename that device first')
    expect(w.links(ctr).map((l) => l.ifname)).toEqual(['eth1'])
  })
})

describe('command line', () => {
  test('unknown container: assign fails saying what each engine answered; release has nothing to do', () => {
    const w = createWorld({ nics: 1 })
    refused(w.nicback(['assign', 'eth0', '--to', 'nosuch'], ENGINES), 'no container "nosuch"', 'docker: no such container', 'podman: no such container')
    // Nothing of it is away: nothing to do (idempotent), with a warning.
    const none = ok(w.nicback(['release', '--from', 'nosuch'], ENGINES))
    expect(none.stderr).toContain('nothing to release: no recorded NIC is away in container "nosuch" (no container "nosuch"')
    refused(w.nicback(['release', 'eth9']), 'eth9 is not a recorded NIC')
    expect(w.where()).toEqual(w.allHome())
  })

  test.each([
    [['assign']],
    [['assign', 'eth0']],
    [['assign', 'eth0', 'eth1', '--pid', '1']],
    [['assign', 'eth0', '--pid', '1', '--netns', 'x']],
    [['assign', 'eth0', '--to', 'c1', '--pid', '1']],
    [['assign', 'eth0', '--pid', 'abc']],
    [['assign', 'eth0', '--pid', '-3']],
    [['assign', 'eth0', '--netns', 'x', '--as', 'a b']],
    [['assign', 'eth0', '--netns', 'x', '--as', 'waytoolongname16']],
    [['assign', 'eth0', '--netns', 'x', '--bogus']],
    [['release']],
    [['release', 'eth0', '--from', 'c1']],
    [['release', 'eth0', '--timeout', '0']],
    [['release', 'eth0', '--timeout', 'soon']],
  ])('%j: exit 2', (argv) => {
    const w = createWorld({ nics: 1 })
    const r = w.nicback(argv)
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toContain(`Run "nicback ${argv[0]} --help"`)
    expect(w.registryText()).toBe('')
  })
})
