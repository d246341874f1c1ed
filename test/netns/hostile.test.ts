// Issue 8: a container with NET_ADMIN must not be able to steer the host.
// One test per class the hostile-container audit found, each against real
// kernel state in namespaces made here: the container side is scripted to do
// what an attacker would (race nicback on link events, plant names, bytes,
// look-alikes), and every assertion reads the host back from the kernel.
//
// Issue 17 (the second pass), one test at least per item, each failing on
// the code before its fix: items 1-4, 6-8, 12 and 13 are the "17.N"
// sections here; the others sit with the module they hold to:
//   5   the udev front's state dir, links and FIFOs: test/cli/udev-front.test.ts
//   9   config.json edited as text (uint64): test/unit/runtimes/shim.test.ts
//   10  daemon.json edited as text (int64): test/unit/runtimes/dockerd.test.ts
//   11  a FIFO at config.json: test/cli/nicback-runtime.test.ts, test/cli/install.test.ts
//   13  also test/vm/package.test.ts (apt-get purge, daemon.json byte for byte)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { appendFileSync, chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { block, dropFromPageCache, imageNode, load, monitorStandIn, probe, sleep, startAgent, stopAgents, until, type Running } from './agent.js'
import { createWorld, destroyWorlds, ensureBuilt, macOf, NICBACK, NODE, REPO, type RestoreJson, type StatusJson, type World } from './world.js'

beforeAll(ensureBuilt)
const procs: ChildProcess[] = []
afterEach(() => {
  for (const p of procs.splice(0)) p.kill('SIGKILL')
  stopAgents()
  destroyWorlds()
})

function recorded(n = 4): World {
  const w = createWorld({ nics: n })
  const r = w.nicback(['record', ...w.nics])
  expect(r.code, r.stderr).toBe(0)
  return w
}

/** `sh -c SCRIPT` (names with raw bytes go through printf). */
function sh(script: string): string {
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`sh -c ${script}: ${r.stderr}`)
  return r.stdout
}

/** The host's devices by `ip -o link` (whatever bytes names or aliases hold):
 *  MAC -> ifindex and name bytes shown by ip. */
function hostByMac(w: World): Map<string, { ifindex: number; name: string }> {
  const out = new Map<string, { ifindex: number; name: string }>()
  for (const line of sh(`ip -n ${w.host} -o link show`).split('\n')) {
    const m = /^(\d+): ([^:@]+)[:@].*link\/ether ([0-9a-f:]{17})/.exec(line)
    if (m) out.set(m[3]!, { ifindex: Number(m[1]), name: m[2]! })
  }
  return out
}

const FAKE_MAC = '02:66:66:66:66:66'

describe('1. release while the container swaps names on every link event', () => {
  test("the container's own device never reaches the host; the NIC comes home once the race stops", async () => {
    const w = createWorld()
    const ctr = w.container('race')
    expect(w.nicback(['assign', 'eth1', '--netns', ctr, '--as', 'eth0', '--force']).code).toBe(0)
    w.ip('-n', ctr, 'link', 'add', 'fake', 'address', FAKE_MAC, 'type', 'veth', 'peer', 'name', 'fakep')
    // Swap the names of the NIC and the container's own device, forever.
    const racer = spawn('ip', ['netns', 'exec', ctr, 'sh', '-c', 'while :; do ip link set eth0 name x; ip link set fake name eth0; ip link set x name fake; done 2>/dev/null'], { stdio: 'ignore' })
    procs.push(racer)
    let failures = 0
    for (let i = 0; i < 6; i++) {
      const r = w.nicback(['release', 'eth1', '--timeout', '1'])
      const host = hostByMac(w)
      expect(host.has(FAKE_MAC), `attempt ${i}: the container's device is on the host\n${r.stderr}`).toBe(false)
      if (r.code === 0) {
        expect(host.get(macOf(1))?.name).toBe('eth1')
        break
      }
      failures++
      expect(r.stderr).toMatch(/eth1|arrived instead|still in|not in/)
      expect(host.has(macOf(1))).toBe(false)
    }
    racer.kill('SIGKILL')
    await new Promise((r) => racer.once('exit', r))
    if (hostByMac(w).get(macOf(1)) === undefined) {
      const r = w.nicback(['release', 'eth1'])
      expect(r.code, r.stderr).toBe(0)
    }
    const host = hostByMac(w)
    expect(host.get(macOf(1))?.name).toBe('eth1')
    expect(host.has(FAKE_MAC)).toBe(false)
    // The container keeps its own device (sent back if it ever got out).
    expect(sh(`ip -n ${ctr} -o link show`)).toContain(FAKE_MAC)
    console.log(`release under a racing container: ${failures} refused attempt(s) before it came home`)
  })
})

describe('2. one device with hostile bytes does not stop the others', () => {
  test('a returned NIC named 0xff with control bytes in ifalias and altname, beside a devN: status works, restore --all brings both home', () => {
    const w = recorded()
    const ctr = w.container('bytes')
    w.lend(ctr, ['eth1', 'eth2'], { eth1: 'eth0', eth2: 'eth3' })
    const i1 = w.ifindexIn(ctr, 'eth1')
    const i2 = w.ifindexIn(ctr, 'eth2')
    sh(`ip -n ${ctr} link set dev eth0 name "$(printf 'a\\377b')" && ip -n ${ctr} link set dev if${i1} alias "$(printf 'q\\001\\377z')" && ip -n ${ctr} link property add dev if${i1} altname "$(printf 'x\\001y')"`)
    // The kernel hands them back: the 0xff name is free on the host, eth3 is not.
    sh(`ip -n ${ctr} link set dev if${i1} netns ${w.host} && ip -n ${ctr} link set dev eth3 netns ${w.host} name dev${i2}`)
    const status = w.nicbackJson<StatusJson[]>(['status'])
    expect(status.code, status.stderr).toBe(0)
    expect(status.json.find((s) => s.recordedName === 'eth1')).toMatchObject({ state: 'returned_misnamed', name: 'a\\xffb (not UTF-8)' })
    const r = w.nicbackJson<RestoreJson>(['restore', '--all'])
    expect(r.code, r.stderr).toBe(0)
    const host = hostByMac(w)
    expect(host.get(macOf(1))).toEqual({ ifindex: i1, name: 'eth1' })
    expect(host.get(macOf(2))).toEqual({ ifindex: i2, name: 'eth2' })
  })
})

describe('3. an altname planted on one NIC does not block another', () => {
  test("the container gives NIC A an altname equal to NIC B's host name: both come home, the altname dropped and logged", () => {
    const w = recorded()
    const a = w.container('a')
    const b = w.container('b')
    w.lend(a, ['eth1'])
    w.lend(b, ['eth2'], { eth2: 'eth0' })
    w.ip('-n', a, 'link', 'property', 'add', 'dev', 'eth1', 'altname', 'eth2')
    w.handBack(a)
    expect(w.link('eth1').altnames).toEqual(['eth2'])
    const back = w.handBack(b)
    expect(back.eth2).toMatch(/^dev\d+$/)
    const r = w.nicbackJson<RestoreJson>(['restore', '--all'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.steps.map((s) => s.description)).toContain('drop altname "eth2" of "eth1"')
    expect(w.where()).toEqual(w.allHome())
  })
})

describe('4. bad events and names never break the registry', () => {
  const pci = (name: string, fn = '03') => ({ DEVPATH: `/devices/pci0000:00/0000:00:${fn}.0/net/${name}` })
  test('udev remove with IFINDEX -1, 1e300, 99999999999 or an invalid INTERFACE: logged and ignored; the registry still reads', () => {
    const w = recorded()
    const reg = w.registryText()
    for (const env of [
      { ACTION: 'remove', INTERFACE: 'eth0', IFINDEX: '-1', ...pci('eth0') },
      { ACTION: 'remove', INTERFACE: 'eth0', IFINDEX: '1e300', ...pci('eth0') },
      { ACTION: 'remove', INTERFACE: 'eth0', IFINDEX: '99999999999', ...pci('eth0') },
      { ACTION: 'remove', INTERFACE: 'a b', IFINDEX: '3', ...pci('a b') },
      { ACTION: 'remove', INTERFACE: 'x'.repeat(16), IFINDEX: '3', ...pci('x') },
    ]) {
      const r = w.nicback(['udev'], env)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toMatch(/ignored/)
      expect(w.registryText()).toBe(reg)
    }
    expect(w.nicback(['status']).code).toBe(0)
  })

  test('record of a kernel-valid name with U+3000 writes a registry that reads back', () => {
    const w = recorded()
    const name = 'x\u3000y'
    w.hostIp('link', 'add', name, 'type', 'veth', 'peer', 'name', 'q3000', 'netns', w.wire)
    const r = w.nicback(['record', name])
    expect(r.code, r.stderr).toBe(0)
    const s = w.nicbackJson<StatusJson[]>(['status'])
    expect(s.code, s.stderr).toBe(0)
    expect(s.json.some((x) => x.recordedName === name)).toBe(true)
  })
})

describe("5. a borrowed name does not replace an away NIC's record", () => {
  test("an unrecorded NIC leaving under an away NIC's name leaves that record alone", () => {
    const w = recorded()
    const ev = (fn: string) => w.nicback(['udev'], { ACTION: 'remove', INTERFACE: 'ens3', IFINDEX: '40', DEVPATH: `/devices/pci0000:00/0000:00:${fn}.0/net/ens3` })
    expect(ev('03').code).toBe(0)
    const first = JSON.parse(w.registryText()) as { nics: { name: string; bus: string | null; away: unknown }[] }
    expect(first.nics.find((e) => e.name === 'ens3')).toMatchObject({ bus: '0000:00:03.0' })
    const r = ev('04')
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/not recorded, ens3 stays promised/)
    const after = JSON.parse(w.registryText()) as typeof first
    expect(after.nics.filter((e) => e.name === 'ens3')).toEqual(first.nics.filter((e) => e.name === 'ens3'))
  })
})

describe('6. a state directory others can write is refused', () => {
  test('a 0777 state dir, a registry owned by someone else, a symlinked lock', () => {
    const w = recorded()
    chmodSync(w.state, 0o777)
    let r = w.nicback(['status'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/refusing the state directory .*others can write it.*chmod 0700/)
    chmodSync(w.state, 0o700)
    chownSync(w.registryPath, 65534, 65534)
    r = w.nicback(['restore'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/owned by uid 65534/)
    chownSync(w.registryPath, 0, 0)

    const target = join(mkdtempSync(join(tmpdir(), 'nicback-lock-target-')), 'made-by-root')
    rmSync(`${w.registryPath}.lock`, { force: true })
    symlinkSync(target, `${w.registryPath}.lock`)
    r = w.nicback(['record', 'eth0'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/symlink/)
    expect(existsSync(target)).toBe(false)
  })

  test('a state dir under /proc is refused at once, a FIFO as config.json does not hang the hook', async () => {
    const w = recorded()
    const t0 = Date.now()
    const r = w.nicback(['status'], { NICBACK_STATE_DIR: '/proc/self/nicback' })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/kernel filesystem/)
    expect(Date.now() - t0).toBeLessThan(20_000)
    const bundle = mkdtempSync(join(tmpdir(), 'nicback-fifo-'))
    spawnSync('mkfifo', [join(bundle, 'config.json')])
    const state = JSON.stringify({ ociVersion: '1.0.2', id: 'fifo', status: 'creating', pid: 1, bundle })
    const hook = spawnSync('ip', ['netns', 'exec', w.host, NODE, NICBACK, 'hook', '--stage', 'createRuntime'], { input: state, encoding: 'utf8', timeout: 20_000, env: { ...process.env, NICBACK_STATE_DIR: w.state } })
    expect(hook.signal, 'the hook hung on a FIFO').toBeNull()
    expect(hook.status).toBe(1)
    expect(hook.stderr).toMatch(/not a regular file/)
    rmSync(bundle, { recursive: true, force: true })
  })
})

describe("8. a look-alike with a MAC-only NIC's MAC is not taken for it", () => {
  test("a device on the host carrying an away stand-in's MAC under another ifindex is refused, and status says why", () => {
    const w = createWorld()
    const ctr = w.container('l')
    expect(w.nicback(['assign', 'eth1', '--netns', ctr, '--force']).code).toBe(0)
    w.hostIp('link', 'add', 'dev99', 'address', macOf(1), 'type', 'veth', 'peer', 'name', 'q99', 'netns', w.wire)
    const r = w.nicbackJson<RestoreJson>(['restore', 'eth1'])
    expect(r.code).toBe(1)
    expect(r.json.nics.find((n) => n.name === 'eth1')).toMatchObject({ outcome: 'ambiguous' })
    expect(r.json.nics.find((n) => n.name === 'eth1')!.reason).toMatch(/not the device that left/)
    expect(w.links().some((l) => l.ifname === 'dev99')).toBe(true)
    expect(w.links().some((l) => l.ifname === 'eth1')).toBe(false)
  })
})

describe('8b. a look-alike inside the container', () => {
  test("the container moves its MAC to a veth of its own under the NIC's name: release brings the NIC, never the veth", () => {
    const w = createWorld()
    const ctr = w.container('clone')
    expect(w.nicback(['assign', 'eth1', '--netns', ctr, '--as', 'eth0', '--force']).code).toBe(0)
    w.ip('-n', ctr, 'link', 'set', 'eth0', 'address', '02:99:99:99:99:01', 'name', 'real')
    w.ip('-n', ctr, 'link', 'add', 'eth0', 'address', macOf(1), 'type', 'veth', 'peer', 'name', 'clonep')
    const r = w.nicback(['release', 'eth1'])
    expect(r.code, r.stderr).toBe(0)
    const host = hostByMac(w)
    expect(host.get(macOf(1))?.name).toBe('eth1')
    // The device that came home is the one that left (its ifindex), with its MAC back;
    // the container's veth is still in the container.
    expect(
      w
        .links(ctr)
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['clonep', 'eth0'])
  })
})

describe('17.7 release checks the recorded namespace before it moves anything', () => {
  test("a recorded PID now in another netns (reused PID, unshare) holding a veth with the NIC's MAC and ifindex: refused, nothing moved; the real PID releases", () => {
    const w = createWorld()
    const ctr = w.container('pidctr')
    const keeper = spawn('ip', ['netns', 'exec', ctr, 'sleep', '300'], { stdio: 'ignore' })
    procs.push(keeper)
    const realPid = waitForPidIn(ctr)
    const a = w.nicback(['assign', 'eth1', '--pid', String(realPid), '--as', 'eth0', '--force'])
    expect(a.code, a.stderr).toBe(0)
    const inside = w.ifindexIn(ctr, 'eth1')
    // The attacker's namespace, as `unshare -Urn` would make it, behind the reused PID.
    const atk = w.container('atk')
    w.ip('-n', atk, 'link', 'add', 'eth0', 'index', String(inside), 'address', macOf(1), 'type', 'veth', 'peer', 'name', 'atkp')
    const squatter = spawn('ip', ['netns', 'exec', atk, 'sleep', '300'], { stdio: 'ignore' })
    procs.push(squatter)
    const reg = JSON.parse(w.registryText()) as { nics: { name: string; away: { container: { pid: number }; netnsInode: number } | null }[] }
    const entry = reg.nics.find((e) => e.name === 'eth1')!
    expect(entry.away?.netnsInode).toBeGreaterThan(0)
    const withPid = (pid: number) => {
      entry.away!.container.pid = pid
      writeFileSync(w.registryPath, JSON.stringify(reg), { mode: 0o600 })
    }
    withPid(waitForPidIn(atk))
    const r = w.nicback(['release', 'eth1', '--timeout', '1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/eth1: pid \d+ is in network namespace net:\[\d+\], not net:\[\d+\] the NIC was given to/)
    expect(
      w
        .links(atk)
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['atkp', 'eth0'])
    expect(w.links(ctr).map((l) => l.ifname)).toEqual(['eth0'])
    expect(hostByMac(w).has(macOf(1))).toBe(false)
    // The recorded PID with its recorded netns: released as always.
    withPid(realPid)
    const ok = w.nicback(['release', 'eth1'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(hostByMac(w).get(macOf(1))?.name).toBe('eth1')
  })
})

/** The PID of the one process running in netns `ns` (ip netns pids). */
function waitForPidIn(ns: string): number {
  for (let i = 0; i < 200; i++) {
    const pids = sh(`ip netns pids ${ns}`).trim().split('\n').filter(Boolean)
    if (pids.length === 1) return Number(pids[0])
    spawnSync('sleep', ['0.02'])
  }
  throw new Error(`no process in ${ns}`)
}

describe('17.8 a NIC back under a name that is not UTF-8 is brought home on every automatic path', () => {
  // 15 bytes, the most a name may have: decoded as UTF-8 it would be 41.
  const RAW_BYTES = Buffer.from([0x71, ...Array(13).fill(0xff), 0x7a])
  const RAW = `$(printf '${[...RAW_BYTES].map((b) => `\\${b.toString(8)}`).join('')}')`
  const LOSSY = RAW_BYTES.toString('utf8')
  /** eth1 given to a container that names it q\xff...z, then handed back to
   *  the host under that name (free there), as the kernel does; its ifindex. */
  function backAsRawName(w: World, label: string): number {
    const ctr = w.container(label)
    const a = w.nicback(['assign', 'eth1', '--netns', ctr, '--as', 'eth0', '--force'])
    expect(a.code, a.stderr).toBe(0)
    const idx = w.ifindexIn(ctr, 'eth1')
    sh(`ip -n ${ctr} link set dev eth0 name "${RAW}" && ip -n ${ctr} link set dev if${idx} netns ${w.host} && ip netns del ${ctr}`)
    expect(hostByMac(w).get(macOf(1))).toEqual({ ifindex: idx, name: LOSSY })
    expect(w.where().eth1).toBe(LOSSY)
    return idx
  }
  /** sh -c SCRIPT with the event's environment, INTERFACE and DEVPATH in raw bytes. */
  function withEvent(w: World, idx: number, script: string, extra = ''): { code: number; stderr: string } {
    const env = { ...process.env, NICBACK_STATE_DIR: w.state, ACTION: 'add', IFINDEX: String(idx) }
    const r = spawnSync('sh', ['-c', `INTERFACE="${RAW}"; DEVPATH="/devices/pci0000:00/0000:00:03.0/net/$INTERFACE"; export INTERFACE DEVPATH ${extra}; ${script}`], { env, encoding: 'utf8' })
    return { code: r.status ?? -1, stderr: r.stderr }
  }

  test('the rule starting node for the event, and the udev front (leader), each rename it home by its IFINDEX', () => {
    const w = recorded(3)
    for (const via of ['node', 'front'] as const) {
      const idx = backAsRawName(w, via)
      const cmd = via === 'node' ? `exec ip netns exec ${w.host} ${NODE} ${NICBACK} udev` : `exec ip netns exec ${w.host} sh ${join(dirname(NICBACK), 'udev', 'nicback-udev-front.sh')} ${NODE}`
      const r = withEvent(w, idx, cmd, via === 'front' ? '; SEQNUM=4711; export SEQNUM' : '')
      expect(r.code, `${via}: ${r.stderr}`).toBe(0)
      expect(w.where().eth1, `${via}: ${r.stderr}`).toBe('eth1')
      expect(hostByMac(w).get(macOf(1))).toMatchObject({ ifindex: idx, name: 'eth1' })
    }
  })

  test('`nicback watch`, whose monitor stream decodes the name as U+FFFD, resolves the event by its IFINDEX and renames it home', async () => {
    const w = recorded(3)
    const events = join(w.state, '..', `${w.tag}raw-events`)
    writeFileSync(events, 'monitor will print the received events for:\n\n')
    w.hostIp('link', 'set', 'lo', 'up')
    const env = { ...process.env, NICBACK_STATE_DIR: w.state, NICBACK_WATCH_MONITOR: monitorStandIn(events) }
    const agent = spawn('ip', ['netns', 'exec', w.host, NODE, NICBACK, 'watch', '--log-format', 'json'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    procs.push(agent)
    let log = ''
    agent.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d))
    for (const end = Date.now() + 15_000; !/watching udev events/.test(log); await new Promise((r) => setTimeout(r, 50))) if (Date.now() > end) throw new Error(`agent did not start: ${log}`)
    const idx = backAsRawName(w, 'watch')
    const raw = RAW_BYTES
    const devpath = Buffer.concat([Buffer.from('/devices/pci0000:00/0000:00:03.0/net/'), raw])
    appendFileSync(events, Buffer.concat([Buffer.from('UDEV  [1.000000] add      '), devpath, Buffer.from(' (net)\nACTION=add\nDEVPATH='), devpath, Buffer.from('\nSUBSYSTEM=net\nINTERFACE='), raw, Buffer.from(`\nIFINDEX=${idx}\nSEQNUM=1\n\n`)]))
    for (const end = Date.now() + 15_000; w.where().eth1 !== 'eth1'; await new Promise((r) => setTimeout(r, 50))) if (Date.now() > end) throw new Error(`not home: ${log}`)
    expect(hostByMac(w).get(macOf(1))).toMatchObject({ ifindex: idx, name: 'eth1' })
  }, 30_000)
})

describe('9. small ones', () => {
  test('status with 200000 registry entries; restore of an unknown name says only that', () => {
    const w = recorded(1)
    const reg = JSON.parse(w.registryText()) as { nics: Record<string, unknown>[] }
    const base = reg.nics[0]!
    reg.nics = Array.from({ length: 200_000 }, (_, i) => ({ ...base, name: `n${i}`, mac: `02:${[(i >> 16) & 255, (i >> 8) & 255, i & 255, 1, 2].map((x) => x.toString(16).padStart(2, '0')).join(':')}`, ifindex: 100000 + i }))
    writeFileSync(w.registryPath, JSON.stringify(reg), { mode: 0o600 })
    const s = w.nicback(['status'])
    expect(s.code, s.stderr.slice(0, 500)).toBe(0)
    expect(s.stdout.split('\n').length).toBeGreaterThan(200_000)
    const u = w.nicback(['restore', 'nosuch0'])
    expect(u.code).toBe(1)
    expect(u.stderr).toMatch(/nosuch0 is not a recorded NIC/)
    expect(u.stdout).not.toMatch(/Nothing to restore/)
    expect(readFileSync(w.registryPath, 'utf8')).toBe(JSON.stringify(reg))
  }, 120_000)
})

// Issue 17: the second hardening pass.

/** The agent as the image runs it (its node, its flags), or on NBT_NODE when
 *  the tier runs again on another node. */
const podNode = (): readonly string[] => (process.env.NBT_NODE === undefined ? imageNode() : [process.env.NBT_NODE])

/** The agent on port 9465 of w's host netns (a netns of its own), ready. */
async function readyAgent(w: World, opts: { countIp?: boolean; node?: readonly string[] } = {}): Promise<Running> {
  const a = startAgent(w, { port: 9465, ...opts })
  await until('the agent is ready', () => probe(w, a, '/readyz')[0] === 200)
  return a
}

/** `nic` lent to a container that dies (back as devN), its add event
 *  written to the agent: ms until it is home. */
async function returnThroughAgent(w: World, a: Running, nic: string, slot: number): Promise<number> {
  const ctr = w.container(`r${slot}`)
  w.lend(ctr, [nic], { [nic]: 'eth0' })
  const back = w.handBack(ctr)[nic]!
  expect(back).toMatch(/^dev\d+$/)
  const t0 = performance.now()
  appendFileSync(a.events, block('add', back, w.link(back).ifindex, slot))
  await until(`${nic} home`, () => w.where()[nic] === nic, 60_000)
  return performance.now() - t0
}

const quantile = (xs: number[], q: number) => (xs.length === 0 ? NaN : [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!)

interface HoldReport {
  opened: number
  closedByServer: number
  maxOpen: number
  closedAfterMs?: Record<'idle' | 'half' | 'trickle' | 'kept', number[]>
}

describe('17.1 a scrape flood does not stall restores', () => {
  test('1000 scrapers in a loop run no `ip` per scrape: the links are read at most about once a second', async () => {
    const w = recorded(2)
    const a = await readyAgent(w, { countIp: true })
    const reads = () => a.ipCalls().filter((c) => c.includes('-json -details link show')).length
    const before = reads()
    const t0 = performance.now()
    const flood = await load<{ requests: number }>(w, ['scrape', a.port, 1000])
    await sleep(4000)
    const { requests } = await flood.stop()
    const seconds = (performance.now() - t0) / 1000
    const n = reads() - before
    console.log(`17.1: ${requests} scrapes answered in ${seconds.toFixed(1)} s, ${n} reads of the links`)
    expect(requests, 'the flood was answered').toBeGreaterThan(200)
    expect(n).toBeLessThanOrEqual(seconds + 3)
  })

  test('with 1000 scrapers in a loop, /healthz and /readyz answer within 100 ms and a returned NIC comes home about as fast as without them', async () => {
    const w = recorded(4)
    const a = await readyAgent(w, { node: podNode() })
    const quiet = await returnThroughAgent(w, a, 'eth1', 1)
    const flood = await load<{ requests: number }>(w, ['scrape', a.port, 1000])
    await sleep(2000) // every scraper in its loop
    const prober = await load<{ ms: Record<string, number[]>; failed: Record<string, number> }>(w, ['probe', a.port, 50, '/healthz', '/readyz'])
    await sleep(3000)
    const flooded = await returnThroughAgent(w, a, 'eth2', 2)
    const p = await prober.stop()
    const { requests } = await flood.stop()
    const ms = [...p.ms['/healthz']!, ...p.ms['/readyz']!]
    console.log(
      `17.1: ${ms.length} probes under the flood: p50 ${quantile(ms, 0.5).toFixed(1)} ms, p90 ${quantile(ms, 0.9).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms; restore ${quiet.toFixed(0)} ms alone, ${flooded.toFixed(0)} ms under the flood; ${requests} scrapes answered`,
    )
    expect(p.failed).toEqual({ '/healthz': 0, '/readyz': 0 })
    expect(ms.length).toBeGreaterThan(100)
    // the issue's bound, on the 90th percentile (the 99th, on a quiet
    // machine, is the bench's: bench/results.md)
    expect(quantile(ms, 0.9)).toBeLessThan(100)
    expect(Math.max(...ms), "well inside the liveness probe's 5 s").toBeLessThan(1000)
    expect(flooded).toBeLessThan(Math.max(2000, 2 * quiet))
    expect(w.where()).toEqual(w.allHome())
  })
})

describe('17.2 idle connections do not exhaust memory', () => {
  test('connections past the cap of 1024 are closed at once: the agent never holds more', async () => {
    const w = recorded(1)
    const a = await readyAgent(w)
    const hold = await load<HoldReport>(w, ['hold', a.port, 1200, 'once'])
    await sleep(1500) // all connected, none at its 2 s header deadline yet
    const held = sh(`ip netns exec ${w.host} ss -Htn state established '( sport = :${a.port} )'`)
      .split('\n')
      .filter((l) => l.trim() !== '').length
    const r = await hold.stop()
    const atOnce = Object.values(r.closedAfterMs!)
      .flat()
      .filter((t) => t < 1000).length
    console.log(`17.2: ${held} connections held by the agent, ${atOnce} of 1200 closed at once`)
    expect(held).toBeLessThanOrEqual(1024)
    expect(atOnce).toBeGreaterThanOrEqual(150)
    expect(probe(w, a, '/healthz')[0]).toBe(200)
  })

  test('an idle connection, a half-sent request, a header sent a byte at a time and an idle keep-alive connection are all closed within 2 s', async () => {
    const w = recorded(1)
    const a = await readyAgent(w)
    const hold = await load<HoldReport>(w, ['hold', a.port, 40, 'once'])
    await sleep(4500)
    const r = await hold.stop()
    console.log(`17.2: closed after (ms) ${JSON.stringify(Object.fromEntries(Object.entries(r.closedAfterMs!).map(([k, v]) => [k, Math.round(Math.max(...v))])))}`)
    for (const [kind, after] of Object.entries(r.closedAfterMs!)) {
      expect(after, kind).toHaveLength(10)
      // 2 s, and the time the agent takes to see it on a busy machine
      expect(Math.max(...after), kind).toBeLessThan(3000)
    }
  })

  test("10,000 connections attempted: the agent's RSS stays under 80 MiB and a returned NIC still comes home", async () => {
    const w = recorded(2)
    // A pod's node maps its binary from its own image layer, read afresh.
    // Here the binary may be in the page cache already, in large folios (the
    // VM tier's qemu reads it over 9p): those map whole into the agent and
    // count in its RSS (a bare `node --jitless -e` measured 68 MiB against
    // 43 MiB once the file's cache was dropped). After podNode(), which
    // reads the whole file to check its sha256.
    const node = podNode()
    dropFromPageCache(node[0]!)
    // another node (NBT_NODE) is held to its growth
    const a = await readyAgent(w, { node })
    const idle = a.memKiB('VmRSS') / 1024
    const hold = await load<HoldReport>(w, ['hold', a.port, 10_000])
    await sleep(3000)
    const ms = await returnThroughAgent(w, a, 'eth1', 1)
    await sleep(2000)
    const peak = a.memKiB('VmHWM') / 1024
    const r = await hold.stop()
    console.log(
      `17.2: ${r.opened} connections opened, ${r.closedByServer} closed by the agent; RSS ${idle.toFixed(1)} MiB idle (${(a.memKiB('RssFile') / 1024).toFixed(1)} MiB of it file pages), peak ${peak.toFixed(1)} MiB; a NIC home ${ms.toFixed(0)} ms after its event`,
    )
    // The image's node and flags: the issue's bound (measured: node 22
    // --jitless 57 -> 67-68 MiB; without the flag 62 -> 76-83, node 20
    // 54 -> 70, 24 60 -> 87-91). Debian 12's node 18 (the package's oldest)
    // starts higher and grows more.
    if (process.env.NBT_NODE === undefined) expect(peak).toBeLessThan(80)
    else expect(peak - idle).toBeLessThan(40)
    expect(ms).toBeLessThan(5000)
    expect(r.opened).toBeGreaterThanOrEqual(10_000)
  })
})

describe("17.3 the agent's port", () => {
  test('`watch --metrics-addr :PORT` listens on loopback only, never on every address', async () => {
    const w = recorded(1)
    w.hostIp('link', 'set', 'lo', 'up')
    const events = join(w.state, '..', `${w.tag}events`)
    writeFileSync(events, '')
    const port = 20000 + ((process.pid + 7) % 20000)
    const env = { ...process.env, NICBACK_STATE_DIR: w.state, NICBACK_WATCH_MONITOR: monitorStandIn(events) }
    const agent = spawn('ip', ['netns', 'exec', w.host, NODE, NICBACK, 'watch', '--metrics-addr', `:${port}`], { env, stdio: 'ignore' })
    procs.push(agent)
    let listening = ''
    for (const end = Date.now() + 15_000; Date.now() < end && listening === ''; await new Promise((r) => setTimeout(r, 100))) {
      listening = sh(`ip netns exec ${w.host} ss -Hltn 'sport = :${port}'`).trim()
    }
    expect(listening, 'the agent listens').not.toBe('')
    const local = listening.split('\n').map((l) => l.trim().split(/\s+/)[3])
    expect(local).toEqual([`127.0.0.1:${port}`])
    rmSync(events, { force: true })
  })
})

describe("17.6 counters.json follows registry.json's private-file rules", () => {
  /** eth1 lent to a container that dies: it comes back misnamed, and a
   *  restore brings it home, which counts. */
  function restoreCounted(w: World): ReturnType<World['nicback']> {
    const ctr = w.container('c')
    w.lend(ctr, ['eth1'], { eth1: 'eth0' })
    expect(w.handBack(ctr).eth1).toMatch(/^dev\d+$/)
    return w.nicback(['restore'])
  }

  test('counters.json planted as a symlink is never written through, and stays the link', () => {
    const w = recorded(2)
    const victim = join(mkdtempSync(join(tmpdir(), 'nicback-victim-')), 'victim')
    writeFileSync(victim, 'keep\n')
    const counters = join(w.state, 'counters.json')
    symlinkSync(victim, counters)
    const r = restoreCounted(w)
    expect(r.code, r.stderr).toBe(0)
    expect(w.where().eth1).toBe('eth1')
    expect(readFileSync(victim, 'utf8')).toBe('keep\n')
    expect(lstatSync(counters).isSymbolicLink()).toBe(true)
    expect(r.stderr).toMatch(/refusing the metrics counters .*symlink/)
  })

  test('counters.json owned by another user is refused (warned, not counted), never replaced by a file that user owns', () => {
    const w = recorded(2)
    const counters = join(w.state, 'counters.json')
    const foreign = '{"format":"nicback-counters","version":1,"restores":{"done":7,"failed":0},"conflicts":{},"returnToName":{"le":[0.1,0.25,0.5,1,2.5,5,10,30],"counts":[0,0,0,0,0,0,0,0],"sum":0,"count":0}}\n'
    writeFileSync(counters, foreign, { mode: 0o600 })
    chownSync(counters, 65534, 65534)
    const r = restoreCounted(w)
    expect(r.code, r.stderr).toBe(0)
    expect(w.where().eth1).toBe('eth1')
    expect(r.stderr).toMatch(/refusing the metrics counters .*owned by uid 65534/)
    expect(readFileSync(counters, 'utf8')).toBe(foreign)
    // and once root's again, counting resumes in a file root owns
    chownSync(counters, 0, 0)
    const again = restoreCounted(w)
    expect(again.code, again.stderr).toBe(0)
    expect(statSync(counters).uid).toBe(0)
    expect((JSON.parse(readFileSync(counters, 'utf8')) as { restores: { done: number } }).restores.done).toBe(8)
  })
})

describe('17.4 the metrics textfile', () => {
  function textDir(mode: number, uid = 0): string {
    const dir = mkdtempSync(join(tmpdir(), 'nicback-textfile-'))
    chmodSync(dir, mode)
    chownSync(dir, uid, uid)
    return dir
  }
  function victimFile(): string {
    const victim = join(mkdtempSync(join(tmpdir(), 'nicback-victim-')), 'victim')
    writeFileSync(victim, 'keep\n', { mode: 0o600 })
    return victim
  }

  test('nicback.prom planted as a symlink is never followed: the rename replaces the link itself', () => {
    const w = recorded(1)
    const dir = textDir(0o755)
    const victim = victimFile()
    symlinkSync(victim, join(dir, 'nicback.prom'))
    const r = w.nicback(['metrics', '--textfile', dir])
    expect(r.code, r.stderr).toBe(0)
    expect(readFileSync(victim, 'utf8')).toBe('keep\n')
    expect(statSync(victim).mode & 0o777).toBe(0o600)
    const prom = lstatSync(join(dir, 'nicback.prom'))
    expect(prom.isFile()).toBe(true)
    expect(prom.uid).toBe(0)
    expect(readFileSync(join(dir, 'nicback.prom'), 'utf8')).toMatch(/^nicback_nics_recorded 1$/m)
    rmSync(dir, { recursive: true, force: true })
  })

  test('a textfile dir others can write and that is not sticky, or that another user owns, is refused (exit 1), nothing written', () => {
    const w = recorded(1)
    for (const dir of [textDir(0o777), textDir(0o775), textDir(0o755, 65534)]) {
      const r = w.nicback(['metrics', '--textfile', dir])
      expect(r.code, dir).toBe(1)
      expect(r.stderr).toMatch(/refusing .*(others can write it|belongs to uid 65534).*not sticky/)
      expect(existsSync(join(dir, 'nicback.prom'))).toBe(false)
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test("in a sticky dir others can write, only an absent nicback.prom or one root owns is written; a link or another user's file is refused", () => {
    const w = recorded(1)
    const dir = textDir(0o1777)
    const prom = join(dir, 'nicback.prom')
    let r = w.nicback(['metrics', '--textfile', dir])
    expect(r.code, r.stderr).toBe(0)
    expect(lstatSync(prom).uid).toBe(0)
    r = w.nicback(['metrics', '--textfile', dir])
    expect(r.code, r.stderr).toBe(0)
    // a user's link
    rmSync(prom)
    const victim = victimFile()
    symlinkSync(victim, prom)
    lchownSync(prom, 65534, 65534)
    r = w.nicback(['metrics', '--textfile', dir])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/refusing .*nicback\.prom: it is not a regular file \(a symlink\)/)
    expect(readFileSync(victim, 'utf8')).toBe('keep\n')
    expect(lstatSync(prom).isSymbolicLink()).toBe(true)
    // a user's file
    rmSync(prom)
    writeFileSync(prom, 'theirs\n')
    chownSync(prom, 65534, 65534)
    r = w.nicback(['metrics', '--textfile', dir])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/refusing .*nicback\.prom: it belongs to uid 65534/)
    expect(readFileSync(prom, 'utf8')).toBe('theirs\n')
    rmSync(dir, { recursive: true, force: true })
  })
})

describe('17.12 what a container names reaches the admin escaped, never raw', () => {
  /** ESC and BEL: a terminal that prints it raw turns red and beeps. */
  const ESC_NAME = 'x\u001b[31mx\u0007'
  /** U+202E: reads "eth1" on a terminal that prints it raw. */
  const RLO_NAME = '\u202e1hte'
  /** What must not reach a terminal raw (the line breaks between lines aside). */
  // eslint-disable-next-line no-control-regex -- it finds control characters
  const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
  const SHOWN = ['x\\x1b[31mx\\x07', '\\u{202e}1hte']

  /** eth1 and eth2 given to a container, which renames them to ESC_NAME and
   *  RLO_NAME, puts U+202E in eth1's alias and an altname of eth2, and
   *  dies: the kernel hands them back under those names. */
  function returnedHostile(): { w: World; ifindex: number } {
    const w = recorded(3)
    const ctr = w.container('esc')
    for (const nic of ['eth1', 'eth2']) expect(w.nicback(['assign', nic, '--netns', ctr, '--force']).code).toBe(0)
    const [i1, i2] = [w.ifindexIn(ctr, 'eth1'), w.ifindexIn(ctr, 'eth2')]
    sh(
      `ip -n ${ctr} link set dev if${i1} name "$(printf 'x\\033[31mx\\007')" && ip -n ${ctr} link set dev if${i2} name "$(printf '\\342\\200\\2561hte')" && ` +
        `ip -n ${ctr} link set dev if${i1} alias "$(printf 'al\\342\\200\\256ias')" && ip -n ${ctr} link property add dev if${i2} altname "$(printf 'alt\\342\\200\\256')"`,
    )
    sh(`ip -n ${ctr} link set dev if${i1} netns ${w.host} && ip -n ${ctr} link set dev if${i2} netns ${w.host}`)
    const host = hostByMac(w)
    expect(host.get(macOf(1))).toEqual({ ifindex: i1, name: ESC_NAME })
    expect(host.get(macOf(2))).toEqual({ ifindex: i2, name: RLO_NAME })
    return { w, ifindex: i1 }
  }

  function expectEscaped(what: string, out: string): void {
    expect(out, what).not.toMatch(RAW)
    for (const s of SHOWN) expect(out, what).toContain(s)
  }

  test('status, restore --dry-run and restore print the names escaped; status --json carries them exactly', () => {
    const { w } = returnedHostile()
    const status = w.nicback(['status'])
    expect(status.code, status.stderr).toBe(0)
    expectEscaped('status', status.stdout)
    expect(status.stdout).toMatch(/^eth1 +x\\x1b\[31mx\\x07 +returned_misnamed /m)

    const json = w.nicback(['status', '--json'])
    expect(json.code, json.stderr).toBe(0)
    expect(json.stdout, 'status --json').not.toMatch(RAW)
    const rows = JSON.parse(json.stdout) as StatusJson[]
    expect(rows.find((r) => r.recordedName === 'eth1')).toMatchObject({ name: ESC_NAME, state: 'returned_misnamed' })
    expect(rows.find((r) => r.recordedName === 'eth2')).toMatchObject({ name: RLO_NAME, state: 'returned_misnamed' })

    const plan = w.nicback(['restore', '--dry-run'])
    expect(plan.code, plan.stderr).toBe(0)
    expectEscaped('restore --dry-run', plan.stdout)
    expect(plan.stderr).not.toMatch(RAW)
    expect(plan.stdout).toContain('rename "x\\x1b[31mx\\x07" to "eth1"')
    expect(hostByMac(w).get(macOf(1))?.name).toBe(ESC_NAME)

    const done = w.nicback(['restore'])
    expect(done.code, done.stderr).toBe(0)
    expectEscaped('restore', done.stdout)
    expect(done.stderr).not.toMatch(RAW)
    expect(w.where()).toEqual(w.allHome())
  })

  test("the udev entry's log lines name them escaped, and bring both home", () => {
    const { w, ifindex } = returnedHostile()
    const env = { ...process.env, NICBACK_STATE_DIR: w.state, ACTION: 'add', INTERFACE: ESC_NAME, IFINDEX: String(ifindex), DEVPATH: `/devices/pci0000:00/0000:00:03.0/net/${ESC_NAME}` }
    const udev = spawnSync('ip', ['netns', 'exec', w.host, NODE, join(dirname(NICBACK), 'nicback-udev.cjs')], { encoding: 'utf8', env, timeout: 60_000 })
    expect(udev.status, udev.stderr).toBe(0)
    expectEscaped('udev', udev.stderr)
    expect(udev.stderr).toMatch(/^nicback: restored eth1: /m)
    expect(w.where()).toEqual(w.allHome())
  })
})

describe("17.13 removing the package takes Docker's shim away", () => {
  /** The .deb built from this run's bundle, unpacked (files and DEBIAN/),
   *  then run in a private mount namespace: /usr/libexec, /usr/local, /etc
   *  and /var/lib are overlays of this machine's (the package's
   *  /usr/libexec/nicback in /usr/libexec's), /run an empty tmpfs (no
   *  dockerd, udevd or systemd to reach), so nothing reaches the machine. `nicback` is the package's
   *  /usr/sbin/nicback. Each step leaves STEP.rc, .out, .err, .json (the
   *  daemon.json, if any), .shim (the wrapper, if any), .manifest. */
  const SCRIPT = String.raw`
set -eu
X=$1 T=$2
mount -t tmpfs tmpfs /run
for d in /usr/libexec /usr/local /etc /var/lib; do
  u=$T/over$(echo "$d" | tr / _)
  mkdir -p "$u/upper" "$u/work"
  mount -t overlay overlay -o "lowerdir=$d,upperdir=$u/upper,workdir=$u/work" "$d"
done
cp -a "$X/usr/libexec/nicback" /usr/libexec/
mkdir -p /etc/docker /usr/local/sbin
rm -rf /var/lib/nicback /etc/docker/daemon.json /usr/local/sbin/nicback-runtime /usr/local/lib/nicback
export PATH="$X/usr/sbin:$PATH"
step() {
  n=$1; shift
  set +e; "$@" >"$T/$n.out" 2>"$T/$n.err"; echo $? >"$T/$n.rc"; set -e
  cp /etc/docker/daemon.json "$T/$n.json" 2>/dev/null || true
  cp /usr/local/sbin/nicback-runtime "$T/$n.shim" 2>/dev/null || true
  cp /var/lib/nicback/install.json "$T/$n.manifest" 2>/dev/null || true
}
cp "$T/before" /etc/docker/daemon.json
step install nicback install --docker
step upgrade sh "$X/DEBIAN/prerm" upgrade 0.1.0-1
# daemon.json no longer JSON (an admin's half edit): the removal must stop
{ cat "$T/install.json"; echo '"half": ['; } >/etc/docker/daemon.json
step broken sh "$X/DEBIAN/prerm" remove
cp "$T/install.json" /etc/docker/daemon.json
step remove sh "$X/DEBIAN/prerm" remove
# nicback also installed in /usr/local ("nicback install"): its manifest,
# but a shim that runs the package's program: refused; the shim its own: kept
step reinstall nicback install --docker
sed -i 's#"files": \[#"files": [\n    "/usr/local/lib/nicback",#' /var/lib/nicback/install.json
step mixed sh "$X/DEBIAN/prerm" remove
sed -i 's#/usr/libexec/nicback/#/usr/local/lib/nicback/#' /usr/local/sbin/nicback-runtime
step local sh "$X/DEBIAN/prerm" remove
`
  /** Odd for a JSON writer: 2^63-1, spaces before colons and commas, tabs,
   *  \u escapes, a runtime of the admin's, no final newline. */
  const BEFORE = '{"max-concurrent-downloads":9223372036854775807 ,\n\t"debug" :false,\n   "runtimes":{ "runc-alt" : {"path":"runc"}},\n"labels":["nicback.test=\\u00e9t\\u00e9"]   }'

  test('prerm remove puts daemon.json back byte for byte and removes the wrapper; upgrade keeps them; a daemon.json it cannot edit stops the removal, saying how', () => {
    const t = mkdtempSync(join(tmpdir(), 'nicback-prerm-'))
    try {
      const pkg = spawnSync(process.execPath, [join(REPO, 'scripts/package.mjs'), '--dist', dirname(NICBACK), '--out', t], { encoding: 'utf8' })
      const deb = pkg.stdout.trim().split('\n').at(-1) ?? ''
      expect(pkg.status, pkg.stderr).toBe(0)
      const x = join(t, 'x')
      sh(`dpkg-deb -x ${deb} ${x} && dpkg-deb -e ${deb} ${x}/DEBIAN`)
      writeFileSync(join(t, 'before'), BEFORE)
      const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'bash', '-c', SCRIPT, 'prerm-test', x, t], { encoding: 'utf8', timeout: 120_000 })
      expect(r.status, r.stderr).toBe(0)
      const step = (n: string) => {
        const f = (ext: string) => (existsSync(join(t, `${n}.${ext}`)) ? readFileSync(join(t, `${n}.${ext}`), 'utf8') : null)
        return { rc: Number(f('rc')), out: f('out') ?? '', err: f('err') ?? '', json: f('json'), shim: f('shim'), manifest: f('manifest') }
      }

      // install --docker from the package: the runtime added as a text edit
      const install = step('install')
      expect(install.rc, install.err).toBe(0)
      expect(install.json).toContain('"max-concurrent-downloads":9223372036854775807 ,\n\t"debug" :false,')
      expect(JSON.parse(install.json ?? '{}').runtimes.nicback).toEqual({ path: '/usr/local/sbin/nicback-runtime' })
      expect(install.shim).toContain('/usr/libexec/nicback/nicback-runtime.mjs')
      expect(JSON.parse(install.manifest ?? '{}').files).toEqual(['/usr/local/sbin/nicback-runtime'])

      // an upgrade keeps the shim
      const upgrade = step('upgrade')
      expect(upgrade.rc, upgrade.err).toBe(0)
      expect(upgrade.json).toBe(install.json)
      expect(upgrade.shim).toBe(install.shim)
      expect(upgrade.manifest).toBe(install.manifest)

      // a daemon.json nicback cannot edit: the removal stops, saying how, and nothing changed
      const broken = step('broken')
      expect(broken.rc).not.toBe(0)
      expect(broken.err).toMatch(/daemon\.json is not valid JSON .*nicback will not touch it/)
      expect(broken.err).toMatch(/the package is not removed\. Fix that and remove it again, or first take Docker's shim away by hand: runtime "nicback" in \/etc\/docker\/daemon\.json/)
      expect(broken.err).not.toMatch(/^\s+at .*[(:]\d+/m)
      expect(broken.json).toBe(`${install.json}"half": [\n`)
      expect(broken.shim).toBe(install.shim)
      expect(broken.manifest).toBe(install.manifest)

      // remove: daemon.json byte for byte as before install --docker, no wrapper, no manifest
      const remove = step('remove')
      expect(remove.rc, remove.err).toBe(0)
      expect(remove.json).toBe(BEFORE)
      expect(remove.shim).toBeNull()
      expect(remove.manifest).toBeNull()

      // nicback also in /usr/local: a shim running the package's program is refused; its own is left alone
      const mixed = step('mixed')
      expect(mixed.rc).not.toBe(0)
      expect(mixed.err).toContain("runs this package's nicback, and nicback is also installed in /usr/local: point the shim there (/usr/local/sbin/nicback install --docker)")
      expect(mixed.json).toBe(step('reinstall').json)
      expect(mixed.shim).toContain('/usr/libexec/nicback/nicback-runtime.mjs')
      const local = step('local')
      expect(local.rc, local.err).toBe(0)
      expect(local.json).toBe(step('reinstall').json)
      expect(local.shim).toContain('/usr/local/lib/nicback/nicback-runtime.mjs')
      expect(local.manifest).toBe(mixed.manifest)
    } finally {
      rmSync(t, { recursive: true, force: true })
    }
  }, 180_000)
})
