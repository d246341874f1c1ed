// `nicback hook` against real kernel state, run as an OCI runtime runs it: the
// state on stdin, the container a `sleep` in a namespace of a throwaway world
// (world.ts). createRuntime moves the annotated NIC in and names it there;
// poststop waits while the kernel's hand-back is done by hand (veth stand-ins
// die with their netns, real NICs come back), then gives the name, MTU and
// admin state back. Every assertion reads the kernel.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { createWorld, destroyWorlds, ensureBuilt, macOf, NICBACK, NODE, type IpLink, type RunResult, type StatusJson, type World } from './world.js'

beforeAll(ensureBuilt)

const sleepers: ChildProcess[] = []
afterEach(() => {
  for (const s of sleepers.splice(0)) s.kill('SIGKILL')
  destroyWorlds()
})

interface Ctr {
  /** Its netns name under /run/netns when held by a bind mount, else null. */
  ns: string | null
  pid: number
  bundle: string
  id: string
}

/** A "container": a `sleep` in a network namespace of its own, and a bundle.
 *  held: the netns is also bind-mounted (`ip netns add`, as Docker's
 *  libnetwork and podman do), so it outlives the process; else it is the
 *  sleep's own (`unshare --net`) and dies with it, as runc makes one. */
async function container(w: World, label: string, config: unknown = {}, held = false): Promise<Ctr> {
  const ns = held ? w.container(label) : null
  const argv = held ? ['netns', 'exec', ns!, 'sleep', '1000'] : ['netns', 'exec', w.host, 'unshare', '--net', 'sleep', '1000']
  const child = spawn('ip', argv, { stdio: 'ignore' })
  sleepers.push(child)
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', reject)
  })
  // `ip netns exec` (and unshare) exec sleep in the same process.
  for (let i = 0; i < 400 && !readlinkOr(`/proc/${child.pid}/exe`).endsWith('/sleep'); i++) await sleep(5)
  const bundle = join(w.state, `bundle-${label}`)
  mkdirSync(bundle)
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config))
  return { ns, pid: child.pid!, bundle, id: `nbtest-${label}-${process.pid}` }
}

function readlinkOr(path: string): string {
  try {
    return readlinkSync(path)
  } catch {
    return ''
  }
}

/** `ip ARGS` in the container's netns (through its process). */
function ctrIp(c: Ctr, ...args: string[]): string {
  return execFileSync('nsenter', [`--net=/proc/${c.pid}/ns/net`, 'ip', ...args], { encoding: 'utf8' })
}

function ctrLinks(c: Ctr): IpLink[] {
  return (JSON.parse(ctrIp(c, '-json', 'link', 'show')) as IpLink[]).filter((l) => l.link_type !== 'loopback')
}

function stateOf(c: Ctr, o: Record<string, unknown> = {}): string {
  return JSON.stringify({ ociVersion: '1.0.2', id: c.id, status: 'creating', pid: c.pid, bundle: c.bundle, ...o })
}

/** `nicback hook ARGS` in the world's host namespace, the state on stdin. */
type HookRun = Promise<RunResult & { ms: number }> & {
  /** Resolves once the hook says it waits for the kernel to hand NICs back
   *  (its readiness signal: poststop), or when it ends. */
  waiting: Promise<void>
}

function hook(w: World, args: string[], input: string, env: Record<string, string> = {}): HookRun {
  const t0 = performance.now()
  let ready: () => void = () => {}
  const waiting = new Promise<void>((r) => (ready = r))
  const run = new Promise<RunResult & { ms: number }>((resolve, reject) => {
    const envv: NodeJS.ProcessEnv = {}
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('NICBACK_')) envv[k] = v
    const child = spawn('ip', ['netns', 'exec', w.host, NODE, NICBACK, 'hook', ...args], {
      env: { ...envv, NICBACK_STATE_DIR: w.state, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      if (/waiting up to/.test(stderr)) ready()
    })
    child.on('error', reject)
    child.on('close', (code) => {
      ready()
      resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - t0 })
    })
    child.stdin.end(input)
  })
  return Object.assign(run, { waiting })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function recorded(n = 4): World {
  const w = createWorld({ nics: n })
  const r = w.nicback(['record', ...w.nics])
  expect(r.code, r.stderr).toBe(0)
  return w
}

interface RegEntry {
  name: string
  mtu: number | null
  away: null | { via: string; leftAs: string; insideName?: string; container?: { id?: string; pid?: number } }
}
const entry = (w: World, name: string) => (JSON.parse(w.registryText()) as { nics: RegEntry[] }).nics.find((e) => e.name === name)!

/** The kernel's hand-back of one NIC, done by hand: into the host, under
 *  dev<ifindex it had inside> when its container-side name is taken there. */
function handBack(w: World, c: Ctr, inside: string): string {
  const l = ctrLinks(c).find((x) => x.ifname === inside)!
  const name = w.links().some((x) => x.ifname === inside) ? `dev${l.ifindex}` : inside
  ctrIp(c, 'link', 'set', inside, 'netns', w.host, 'name', name)
  return name
}

describe('createRuntime then poststop: io.nicback.nics=eth2:eth0', () => {
  test('eth2 is eth0 inside and recorded as away with the container id; poststop brings eth2 home with its MTU and state', async () => {
    const w = recorded()
    const c = await container(w, 'a')
    const created = await hook(w, ['--stage', 'createRuntime', '--force'], stateOf(c, { annotations: { 'io.nicback.nics': 'eth2:eth0' } }))
    expect(created.code, created.stderr).toBe(0)
    expect(w.where()).toEqual({ eth0: 'eth0', eth1: 'eth1', eth2: null, eth3: 'eth3' })
    const inside = ctrLinks(c).find((l) => l.address === macOf(2))!
    expect(inside.ifname).toBe('eth0')
    expect(inside.flags).toContain('UP')
    const netnsInode = Number(/^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${c.pid}/ns/net`))![1])
    expect(entry(w, 'eth2').away).toMatchObject({ via: 'hook', leftAs: 'eth2', insideName: 'eth0', container: { id: c.id, pid: c.pid }, netnsInode })
    const status = w.nicbackJson<StatusJson[]>(['status'])
    expect(status.json.find((r) => r.recordedName === 'eth2')).toMatchObject({ state: 'away', container: { id: c.id } })
    // What keeps it away: the container's process (issue 11).
    expect(status.json.find((r) => r.recordedName === 'eth2')).toMatchObject({ keepers: { inode: netnsInode, processes: expect.arrayContaining([expect.objectContaining({ pid: c.pid })]) } })
    const table = w.nicback(['status']).stdout
    expect(table).toMatch(/^eth2\s+-\s+away\s/m)

    // The container changes the MTU; then it dies and the kernel hands the
    // NIC back (down, as dev<ifindex>: the host has an eth0) while poststop waits.
    ctrIp(c, 'link', 'set', 'eth0', 'mtu', '1280')
    const stop = hook(w, ['--stage', 'poststop'], stateOf(c, { status: 'stopped', pid: 0 }))
    await stop.waiting
    const t0 = performance.now()
    const came = handBack(w, c, 'eth0')
    expect(came).toMatch(/^dev\d+$/)
    const r = await stop
    const after = performance.now() - t0
    expect(r.code, r.stderr).toBe(0)
    expect(w.where()).toEqual(w.allHome())
    const eth2 = w.link('eth2')
    expect(eth2.mtu).toBe(1500)
    expect(eth2.flags).toContain('UP')
    expect(entry(w, 'eth2').away).toBeNull()
    console.log(`poststop: eth2 home ${after.toFixed(0)} ms after the hand-back (hook ran ${r.ms.toFixed(0)} ms, of which ~400 ms waiting)`)
  })

  test('poststop has nothing to do when udev (here: nicback restore) got there first', async () => {
    const w = recorded()
    const c = await container(w, 'a')
    expect((await hook(w, ['--stage', 'createRuntime', '--force'], stateOf(c, { annotations: { 'io.nicback.nics': 'eth2:eth0' } }))).code).toBe(0)
    handBack(w, c, 'eth0')
    expect(w.nicback(['restore']).code).toBe(0)
    const reg = w.registryText()
    const r = await hook(w, ['--stage', 'poststop'], stateOf(c, { status: 'stopped' }))
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' })
    expect(w.registryText()).toBe(reg)
    expect(w.where()).toEqual(w.allHome())
  })

  test('poststop gives up after --timeout when the NIC does not come back, and says so', async () => {
    const w = recorded()
    const c = await container(w, 'a')
    expect((await hook(w, ['--stage', 'createRuntime', '--force'], stateOf(c, { annotations: { 'io.nicback.nics': 'eth2:eth0' } }))).code).toBe(0)
    const r = await hook(w, ['--stage', 'poststop', '--timeout', '0.5'], stateOf(c, { status: 'stopped' }))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/eth2 did not come back from container .* within 0\.5 s/)
    expect(r.ms).toBeLessThan(5000)
    expect(ctrLinks(c).find((l) => l.address === macOf(2))?.ifname).toBe('eth0')
    expect(entry(w, 'eth2').away?.container?.id).toBe(c.id)
  })

  test('NICBACK_NICS in config.json (the Docker way) works the same', async () => {
    const w = recorded()
    const c = await container(w, 'a', { process: { env: ['PATH=/bin', 'NICBACK_NICS=eth1:eth7, eth3'] } })
    const r = await hook(w, ['--stage', 'createRuntime', '--force'], stateOf(c))
    expect(r.code, r.stderr).toBe(0)
    expect(Object.fromEntries(ctrLinks(c).map((l) => [l.address, l.ifname]))).toEqual({ [macOf(1)]: 'eth7', [macOf(3)]: 'eth3' })
    const stop = hook(w, ['--stage', 'poststop'], stateOf(c, { status: 'stopped' }))
    await stop.waiting
    handBack(w, c, 'eth7')
    handBack(w, c, 'eth3')
    expect((await stop).code).toBe(0)
    expect(w.where()).toEqual(w.allHome())
  })
})

describe('poststop while the netns outlives the container (Docker keeps it under a bind mount)', () => {
  test('createRuntime records the bind mount; poststop takes the NIC straight out under its host name: no devN, no waiting', async () => {
    const w = recorded()
    const c = await container(w, 'held', {}, true)
    const created = await hook(w, ['--stage', 'createRuntime', '--force'], stateOf(c, { annotations: { 'io.nicback.nics': 'eth2:eth0' } }))
    expect(created.code, created.stderr).toBe(0)
    expect(entry(w, 'eth2').away?.container).toMatchObject({ id: c.id, netns: `/run/netns/${c.ns}` })
    ctrIp(c, 'link', 'set', 'eth0', 'mtu', '1280')
    // The container's processes are gone; its netns is not.
    for (const s of sleepers.splice(0)) s.kill('SIGKILL')
    const r = await hook(w, ['--stage', 'poststop', '--timeout', '5'], stateOf(c, { status: 'stopped', pid: 0 }))
    expect(r.code, r.stderr).toBe(0)
    expect(r.ms).toBeLessThan(5000)
    expect(w.where()).toEqual(w.allHome())
    expect(w.link('eth2')).toMatchObject({ mtu: 1500, flags: expect.arrayContaining(['UP']) })
    expect(w.links(c.ns!)).toEqual([])
    expect(entry(w, 'eth2').away).toBeNull()
  })

  test('a netns path in config.json (podman, CRI) is used the same way', async () => {
    const w = recorded()
    const c = await container(w, 'cfg', {}, true)
    writeFileSync(join(c.bundle, 'config.json'), JSON.stringify({ linux: { namespaces: [{ type: 'pid' }, { type: 'network', path: `/run/netns/${c.ns}` }] } }))
    expect((await hook(w, ['--stage', 'createRuntime', '--force'], stateOf(c, { annotations: { 'io.nicback.nics': 'eth1:eth0' } }))).code).toBe(0)
    for (const s of sleepers.splice(0)) s.kill('SIGKILL')
    const r = await hook(w, ['--stage', 'poststop', '--timeout', '5'], stateOf(c, { status: 'stopped' }))
    expect(r.code, r.stderr).toBe(0)
    expect(w.where()).toEqual(w.allHome())
  })
})

describe('createRuntime refuses, and leaves nothing half-done', () => {
  test('a virtual NIC without --force: refused, nothing moved or recorded as away', async () => {
    const w = recorded()
    const c = await container(w, 'a')
    const reg = w.registryText()
    const r = await hook(w, ['--stage', 'createRuntime'], stateOf(c, { annotations: { 'io.nicback.nics': 'eth2:eth0' } }))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/cannot give eth2 to container .*: refusing to move eth2 .*virtual device/)
    expect(r.stderr).not.toMatch(/^\s+at /m)
    expect(w.where()).toEqual(w.allHome())
    expect(w.registryText()).toBe(reg)
  })

  test('the second NIC is refused: the first, already moved, is brought back under its name', async () => {
    const w = recorded()
    const c = await container(w, 'a')
    const r = await hook(w, ['--stage', 'createRuntime', '--force'], stateOf(c, { annotations: { 'io.nicback.nics': 'eth2:eth0,eth3:lo' } }))
    expect(r.code).toBe(1)
    // "lo" exists inside: a refusal or a failed move (undone), either way
    // eth3 never left, and eth2 comes back out.
    // Every NIC is checked before any moves (issue 9): eth2 never left.
    expect(r.stderr).toMatch(/cannot give eth3 to container .*"lo"/)
    expect(w.where()).toEqual(w.allHome())
    expect(ctrLinks(c)).toEqual([])
    for (const n of ['eth2', 'eth3']) {
      expect(w.link(n).flags).toContain('UP')
      expect(entry(w, n).away).toBeNull()
    }
  })

  test('a NIC that is not on the host: refused before anything moves', async () => {
    const w = recorded()
    const c = await container(w, 'a')
    const r = await hook(w, ['--stage', 'createRuntime', '--force'], stateOf(c, { annotations: { 'io.nicback.nics': 'eth2,eth9' } }))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/annotation io\.nicback\.nics of container .* lists eth9, not in the host's network namespace/)
    expect(w.where()).toEqual(w.allHome())
  })

  test('a pid that is gone: says so', async () => {
    const w = recorded()
    const c = await container(w, 'a')
    const r = await hook(w, ['--stage', 'createRuntime', '--force'], stateOf(c, { pid: 999_999_999, annotations: { 'io.nicback.nics': 'eth2' } }))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/cannot find the container's network namespace \(\/proc\/999999999\/ns\/net\)/)
    expect(w.where()).toEqual(w.allHome())
  })
})

describe('linux.netDevices: the runtime moves, nicback records', () => {
  test('recorded before the runtime moves it, or after (from the registry); poststop brings both home', async () => {
    const w = recorded()
    const c = await container(w, 'a', { linux: { netDevices: { eth1: { name: 'eth5' }, eth3: {} } } })
    // A runtime that moves the devices before createRuntime (runc 1.3): eth3
    // is gone already when the hook runs; eth1 is still here.
    w.hostIp('link', 'set', 'eth3', 'netns', String(c.pid))
    const r = await hook(w, ['--stage', 'createRuntime'], stateOf(c))
    expect(r.code, r.stderr).toBe(0)
    for (const n of ['eth1', 'eth3']) expect(entry(w, n).away).toMatchObject({ via: 'hook', container: { id: c.id } })
    expect(entry(w, 'eth1').away?.insideName).toBe('eth5')
    // nicback moved nothing: eth1 is the runtime's to move.
    expect(w.where()).toMatchObject({ eth1: 'eth1', eth3: null })
    w.hostIp('link', 'set', 'eth1', 'netns', String(c.pid), 'name', 'eth5')

    const stop = hook(w, ['--stage', 'poststop'], stateOf(c, { status: 'stopped' }))
    await stop.waiting
    handBack(w, c, 'eth5')
    handBack(w, c, 'eth3')
    expect((await stop).code).toBe(0)
    expect(w.where()).toEqual(w.allHome())
  })

  test('a netDevice that is neither here nor recorded: refused with the reason', async () => {
    const w = createWorld({ nics: 2 })
    const c = await container(w, 'a', { linux: { netDevices: { eth1: {} } } })
    w.hostIp('link', 'set', 'eth1', 'netns', String(c.pid))
    const r = await hook(w, ['--stage', 'createRuntime'], stateOf(c))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/linux\.netDevices names eth1, which is not in the host's network namespace and was never recorded/)
  })
})
