// A throwaway "world" for the netns tier: a host namespace with veth stand-ins
// for physical NICs (eth0..ethN, peers p0..pN parked in a "wire" namespace),
// container namespaces to lend them to, and nicback run inside the host with
// its own temporary registry. Only namespaces created here are ever touched:
// every name starts with nbt-<pid>-<n>-, and every one is deleted by
// destroyWorlds() (afterEach), by the exit handler, or by the next run's sweep.
//
// veth devices are destroyed with their namespace, real NICs are not: so
// handBack() does what the kernel does for a real NIC when a container's
// netns dies (kernel-facts.md, default_device_exit_net()): the NIC keeps its
// container-side name if that is free in the host, else dev<ifindex> (the
// ifindex it had inside), else the lowest free dev%d; it arrives down.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
/** This vitest run's own build (see ensureBuilt): keyed by the vitest main
 *  process, which every worker has as parent. */
const BUILD_ROOT = join(tmpdir(), `nicback-netns-build-${process.ppid}`)
/** The built CLI; NBT_NICBACK points the tier at another build (used to
 *  check that the tests fail against a broken nicback). */
export const NICBACK = process.env.NBT_NICBACK ?? join(BUILD_ROOT, 'dist', 'nicback.mjs')
/** The node that runs nicback: this one, or NBT_NODE (the tier runs again
 *  on Debian 12's node 18, the package's oldest, with deploy/debian/node18.sh's). */
export const NODE = process.env.NBT_NODE ?? process.execPath
const PREFIX = 'nbt-'

/** One device as `ip -json link` prints it. */
export interface IpLink {
  ifindex: number
  ifname: string
  flags: string[]
  mtu: number
  address: string
  operstate: string
  link_type: string
  altnames?: string[]
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** What `nicback restore --json` prints (scripts/lib/return.ts). */
export interface RestoreJson {
  dryRun: boolean
  ok: boolean
  ms: number
  errors: string[]
  steps: { op: string; description: string }[]
  nics: { name: string; was: string | null; now: string | null; outcome: string; home: boolean; reason: string; settings: boolean; ifindex: number | null }[]
}

/** What `nicback status --json` prints (scripts/commands/status.ts). */
export interface StatusJson {
  recordedName: string | null
  name: string | null
  state: string
  identity: { bus: string | null; devPort: number | null; permAddr: string | null; mac: string | null }
  container: unknown
  away: unknown
  detail: string
  /** Where its name comes from (registry, policy, sriov-cni); null: none. */
  source: string | null
  /** What keeps the netns of an away NIC alive; null for the other states. */
  keepers: {
    inode: number | null
    processes: { pid: number; command: string; container: string | null; pod: string | null }[]
    mounts: string[]
    total: number
    reason: string | null
    unreadable: number
  } | null
}

/** Fails the suite (never skips it) when it cannot run. */
export function requireRoot(): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error('the netns tier needs root (it creates network namespaces): run it as root, e.g. "sudo npx vitest run --project netns"')
  }
  for (const tool of ['ip', 'flock']) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`the netns tier needs "${tool}" (iproute2 / util-linux) in PATH`)
  }
}

function sh(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
  } catch (err) {
    const e = err as { stderr?: string; message: string }
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`, { cause: err })
  }
}

/** The project's build (scripts/build.mjs), once per vitest run, into a
 *  folder of this run's own (BUILD_ROOT/dist): a build deletes its output
 *  first, which would pull the CLI from under a running test if tiers and
 *  runs shared dist/. Under a flock, by the first worker only; folders of
 *  finished runs are removed. */
export function ensureBuilt(): void {
  requireRoot()
  sweepStale()
  for (const f of readdirSync(tmpdir())) {
    const m = /^nicback-netns-(?:build|built)-(\d+)$/.exec(f)
    if (m && !pidAlive(Number(m[1]))) rmSync(join(tmpdir(), f), { recursive: true, force: true })
  }
  if (process.env.NBT_NICBACK !== undefined) {
    if (!existsSync(NICBACK)) throw new Error(`NBT_NICBACK=${NICBACK} does not exist`)
    return
  }
  const lock = join(tmpdir(), 'nicback-netns-build.lock')
  const script = ['set -e', 'root="$1"; repo="$2"; node="$3"', 'test -e "$root/built" && exit 0', '"$node" "$repo/scripts/build.mjs" "$root/dist" >&2 && touch "$root/built"'].join('\n')
  sh('flock', [lock, 'sh', '-c', script, 'sh', BUILD_ROOT, REPO, process.execPath])
  if (!existsSync(NICBACK)) throw new Error(`${NICBACK} missing after the build (node scripts/build.mjs in ${BUILD_ROOT})`)
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Deletes namespaces left by a test process that died (nbt-<dead pid>-*). */
function sweepStale(): void {
  let names: string[]
  try {
    names = readdirSync('/run/netns')
  } catch {
    return
  }
  for (const ns of names) {
    const m = /^nbt-(\d+)-\d+-/.exec(ns)
    if (m && !pidAlive(Number(m[1]))) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
  }
}

const worlds = new Set<World>()
let counter = 0

export interface WorldOptions {
  /** Number of stand-in NICs eth0..eth<n-1> in the host (default 4). */
  nics?: number
  /** Set them up (default true), as a host's NICs usually are. */
  up?: boolean
  /** The node that runs nicback (default NODE) and the CLI it runs (default
   *  NICBACK): test/pkg/nodes.test.ts runs dist/ on each node it tests. */
  node?: string
  nicback?: string
}

export function createWorld(opts: WorldOptions = {}): World {
  const w = new World(opts.nics ?? 4, opts.up ?? true, opts.node ?? NODE, opts.nicback ?? NICBACK)
  worlds.add(w)
  return w
}

/** Deletes every world of this process (afterEach / afterAll). */
export function destroyWorlds(): void {
  for (const w of worlds) w.destroy()
  worlds.clear()
}

process.once('exit', destroyWorlds)

/** Deterministic MAC of stand-in i: easy to read in a failure. */
export function macOf(i: number): string {
  return `02:4e:42:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`
}

export class World {
  readonly tag = `${PREFIX}${process.pid}-${++counter}-`
  readonly host = `${this.tag}host`
  readonly wire = `${this.tag}wire`
  readonly state = mkdtempSync(join(tmpdir(), 'nicback-netns-'))
  /** Original host names of the stand-ins, eth0..eth<n-1>. */
  readonly nics: string[]
  private readonly namespaces: string[] = []
  /** Devices in each container in the order they arrived (the kernel hands
   *  them back in its device-list order). */
  private readonly arrived = new Map<string, number[]>()
  private destroyed = false

  constructor(
    n: number,
    up: boolean,
    readonly node: string,
    readonly cli: string,
  ) {
    this.nics = Array.from({ length: n }, (_, i) => `eth${i}`)
    try {
      this.addNs(this.host)
      this.addNs(this.wire)
      const lines = this.nics.map((name, i) => `link add ${name} address ${macOf(i)} type veth peer name p${i} netns ${this.wire}`)
      if (up) lines.push(...this.nics.map((name) => `link set ${name} up`))
      this.batch(this.host, lines)
    } catch (err) {
      this.destroy()
      throw err
    }
  }

  private addNs(ns: string): void {
    sh('ip', ['netns', 'add', ns])
    this.namespaces.push(ns)
  }

  /** A new container namespace (`<tag>ctr<label>`). */
  container(label = String(this.namespaces.length)): string {
    const ns = `${this.tag}ctr${label}`
    this.addNs(ns)
    this.arrived.set(ns, [])
    return ns
  }

  /** `ip ARGS...` (use `-n NS` to address a namespace). */
  ip(...args: string[]): string {
    return sh('ip', args)
  }

  /** `ip -n NS ARGS...` for the host namespace. */
  hostIp(...args: string[]): string {
    return sh('ip', ['-n', this.host, ...args])
  }

  /** Many `ip` commands in one process (`ip -n NS -batch -`). */
  batch(ns: string, lines: string[]): void {
    if (lines.length > 0) sh('ip', ['-n', ns, '-batch', '-'], `${lines.join('\n')}\n`)
  }

  /** Devices of a namespace (default the host), loopback left out. */
  links(ns = this.host): IpLink[] {
    const raw = JSON.parse(sh('ip', ['-n', ns, '-json', 'link', 'show'])) as IpLink[]
    return raw.filter((l) => l.link_type !== 'loopback')
  }

  /** The host device with this name (throws when there is none). */
  link(name: string): IpLink {
    const l = this.links().find((x) => x.ifname === name)
    if (l === undefined) throw new Error(`no device ${name} in ${this.host}`)
    return l
  }

  /** The device that is stand-in `nic` (eth<i>), in the host or null. */
  nicLink(nic: string): IpLink | null {
    const mac = macOf(this.index(nic))
    return this.links().find((l) => l.address === mac) ?? null
  }

  private index(nic: string): number {
    const i = this.nics.indexOf(nic)
    if (i < 0) throw new Error(`${nic} is not a stand-in of this world`)
    return i
  }

  /** Where every stand-in is, by MAC: original name -> its host name now,
   *  null while it is not in the host. */
  where(): Record<string, string | null> {
    const byMac = new Map(this.links().map((l) => [l.address, l.ifname]))
    return Object.fromEntries(this.nics.map((n, i) => [n, byMac.get(macOf(i)) ?? null]))
  }

  /** Every stand-in under its original name. */
  allHome(): Record<string, string | null> {
    return Object.fromEntries(this.nics.map((n) => [n, n]))
  }

  /** Moves host devices (by current name) into container `ctr`, then renames
   *  them there as `rename` says (through temporary names, so a permutation
   *  of names inside works). */
  lend(ctr: string, names: string[], rename: Record<string, string> = {}): void {
    const host = this.links()
    const order = this.arrived.get(ctr)
    if (order === undefined) throw new Error(`${ctr} is not a container of this world`)
    for (const n of names) {
      const l = host.find((x) => x.ifname === n)
      if (l === undefined) throw new Error(`no device ${n} in ${this.host}`)
      const i = this.nics.findIndex((_, k) => macOf(k) === l.address)
      if (i < 0) throw new Error(`${n} is not a stand-in of this world`)
      order.push(i)
    }
    this.batch(
      this.host,
      names.map((n) => `link set ${n} netns ${ctr}`),
    )
    const renamed = Object.entries(rename)
    this.batch(ctr, [...renamed.map(([from], k) => `link set ${from} name nbtw${k}`), ...renamed.map(([, to], k) => `link set nbtw${k} name ${to}`)])
  }

  /** The ifindex a stand-in has in namespace `ns`. */
  ifindexIn(ns: string, nic: string): number {
    const l = this.links(ns).find((x) => x.address === macOf(this.index(nic)))
    if (l === undefined) throw new Error(`${nic} is not in ${ns}`)
    return l.ifindex
  }

  /** The container dies: hands its stand-ins back to the host as the kernel
   *  hands back a real NIC, then deletes the container namespace. Returns
   *  original name -> the name the host got it under. */
  handBack(ctr: string): Record<string, string> {
    const order = this.arrived.get(ctr)
    if (order === undefined) throw new Error(`${ctr} is not a container of this world`)
    const inside = this.links(ctr)
    const taken = new Set<string>()
    for (const l of this.links()) {
      taken.add(l.ifname)
      for (const a of l.altnames ?? []) taken.add(a)
    }
    const given: Record<string, string> = {}
    const lines: string[] = []
    for (const i of order) {
      const l = inside.find((x) => x.address === macOf(i))
      if (l === undefined) continue
      let name = l.ifname
      if (taken.has(name)) name = `dev${l.ifindex}`
      if (taken.has(name)) {
        let k = 0
        while (taken.has(`dev${k}`)) k++
        name = `dev${k}`
      }
      taken.add(name)
      given[this.nics[i]!] = name
      lines.push(`link set ${l.ifname} netns ${this.host} name ${name}`)
    }
    this.batch(ctr, lines)
    this.arrived.delete(ctr)
    this.delNs(ctr)
    return given
  }

  private delNs(ns: string): void {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
    const i = this.namespaces.indexOf(ns)
    if (i >= 0) this.namespaces.splice(i, 1)
  }

  private argv(args: string[]): string[] {
    return ['netns', 'exec', this.host, this.node, this.cli, ...args]
  }

  private env(extra: Record<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {}
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('NICBACK_')) env[k] = v
    return { ...env, NICBACK_STATE_DIR: this.state, ...extra }
  }

  /** `nicback ARGS...` inside the host namespace, with this world's registry. */
  nicback(args: string[], env: Record<string, string> = {}): RunResult {
    return this.exec([this.node, this.cli, ...args], env)
  }

  /** Any command inside the host namespace, with this world's registry. */
  exec(argv: string[], env: Record<string, string> = {}): RunResult {
    const r = spawnSync('ip', ['netns', 'exec', this.host, ...argv], { encoding: 'utf8', env: this.env(env), timeout: 60_000, maxBuffer: 256 << 20 })
    if (r.error) throw r.error
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
  }

  /** The same, without waiting: for concurrent runs. */
  nicbackAsync(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('ip', this.argv(args), { env: this.env(env), stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      child.on('error', reject)
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
    })
  }

  /** `nicback ARGS... --json`, parsed; the exit code comes along. */
  nicbackJson<T>(args: string[], env: Record<string, string> = {}): { code: number; json: T; stderr: string } {
    const r = this.nicback([...args, '--json'], env)
    let json: T
    try {
      json = JSON.parse(r.stdout) as T
    } catch {
      throw new Error(`nicback ${args.join(' ')} --json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`)
    }
    return { code: r.code, json, stderr: r.stderr }
  }

  /** `ip -o monitor link` on the host netns, with no fixed sleeps: it is
   *  ready once it reports a change made here on the host's loopback (its
   *  MTU, which nothing in the tier looks at), and stop() makes a second such
   *  change and waits for it, so every event before that has been read.
   *  stop() returns the event lines, the loopback's left out. */
  async watchLinks(): Promise<{ stop: () => Promise<string[]> }> {
    const mon = spawn('ip', ['-n', this.host, '-oneline', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] })
    let text = ''
    mon.stdout.setEncoding('utf8').on('data', (d: string) => (text += d))
    let mtu = 65536
    const mark = async (): Promise<void> => {
      // Each try changes the MTU again: the first change the monitor reports
      // proves it listens (and that it has read everything before it).
      for (let i = 0; i < 100; i++) {
        mtu = mtu === 65536 ? 65535 : 65536
        this.hostIp('link', 'set', 'lo', 'mtu', String(mtu))
        const seen = new RegExp(`^\\d+: lo: .* mtu ${mtu} `, 'm')
        for (const end = Date.now() + 200; Date.now() < end; await new Promise((r) => setTimeout(r, 5))) if (seen.test(text)) return
      }
      throw new Error('ip monitor did not report the marker change')
    }
    await mark()
    text = ''
    return {
      stop: async () => {
        await mark()
        mon.kill()
        return text.split('\n').filter((l) => l !== '' && !/^\d+: lo: /.test(l))
      },
    }
  }

  get registryPath(): string {
    return join(this.state, 'registry.json')
  }

  /** The registry file's text ('' when it does not exist). */
  registryText(): string {
    return existsSync(this.registryPath) ? readFileSync(this.registryPath, 'utf8') : ''
  }

  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    for (const ns of [...this.namespaces].reverse()) this.delNs(ns)
    rmSync(this.state, { recursive: true, force: true })
  }
}
