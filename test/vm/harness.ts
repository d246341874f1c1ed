// VM tier: boots a Debian kernel under qemu (software emulation) with
// emulated PCI NICs, the machine's own / shared read-only as the guest's
// root (tmpfs overlay on top), and runs one bash scenario as root inside.
// assets.sh prepares the kernels and initramfs; guest-init.sh is the
// guest's PID 1. See README.md in this folder.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { describe } from 'vitest'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export type Kernel = '6.1' | '6.12'
export const KERNELS: Kernel[] = ['6.1', '6.12']

export interface VmNic {
  model: 'e1000' | 'virtio'
  mac: string
}

export interface VmRun {
  /** exit code of the scenario; null if it never finished (timeout, crash) */
  exitCode: number | null
  /** /out/result.json parsed; null if missing or not JSON */
  result: unknown
  /** stdout + stderr of the scenario */
  log: string
  /** serial console and qemu's own messages */
  console: string
  /** qemu start to qemu exit */
  wallMs: number
  /** qemu start to the scenario's start (boot, udev, docker); null if never */
  bootMs: number | null
  /** guest-init's trace (guest uptime in seconds per step) */
  guestLog: string
  /** qemu was killed after timeoutMs */
  timedOut: boolean
  /** the out folder, kept only when NICBACK_VM_KEEP=1 */
  outDir: string | null
}

export interface RunOptions {
  kernel: Kernel
  /** bash source of the scenario; runs as root with cwd = the checkout */
  script: string
  /** PCI NICs, at slots 3, 4, 5... in this order (names ens3, ens4, ...) */
  nics?: VmNic[]
  /** start containerd + dockerd and import the image nbtest before the scenario */
  docker?: boolean
  /** kill qemu after this long (default 180 s) */
  timeoutMs?: number
  /** guest memory (default 1024) */
  memMb?: number
  /** vCPUs (default 2) */
  cpus?: number
  /** bash source run before udevd and dockerd start (udev rules, daemon.json...) */
  setup?: string
  /** extra kernel command line arguments */
  append?: string[]
  /** Intel 82576 (qemu's igb, 7 SR-IOV VFs each) PFs, each behind its own
   *  PCIe root port on a q35 machine (the PFs are enp1s0, enp2s0, ...) */
  igbs?: number
}

/** The e1000 at 00:03.0 is ens3 in the guest, the virtio-net at 00:04.0 ens4... */
export const DEFAULT_NICS: VmNic[] = [
  { model: 'e1000', mac: '52:54:00:00:00:10' },
  { model: 'virtio', mac: '52:54:00:00:00:11' },
  { model: 'e1000', mac: '52:54:00:00:00:12' },
  { model: 'e1000', mac: '52:54:00:00:00:13' },
]

/** the checkout this file belongs to (the guest sees it at the same path) */
export const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '')
const HERE = join(CHECKOUT, 'test/vm')
const QEMU = 'qemu-system-x86_64'

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
}

/** Whether the VM tier can run here. Tests fail (not skip) when not and CI=true. */
export function vmAvailable(): { ok: boolean; why?: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { ok: false, why: `needs linux x64, this is ${process.platform} ${process.arch}` }
  }
  if (process.getuid?.() !== 0) return { ok: false, why: 'needs root (qemu shares / and assets.sh installs packages)' }
  if (!onPath(QEMU) && !onPath('apt-get')) {
    return { ok: false, why: `no ${QEMU} and no apt-get to install it (assets.sh)` }
  }
  return { ok: true }
}

// qemus still running when this process exits (vitest interrupted) die with it
const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const q of running) q.kill('SIGKILL')
})

let assets: Promise<string> | undefined

/** Runs assets.sh once per process; resolves to the cache folder. */
export function ensureAssets(): Promise<string> {
  assets ??= new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [join(HERE, 'assets.sh')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d))
    child.stderr.on('data', (d: Buffer) => (err += d))
    child.on('error', reject)
    child.on('close', (code) => {
      const m = /^assets ready (.+)$/m.exec(out.trim().split('\n').at(-1) ?? '')
      if (code === 0 && m?.[1]) resolve(m[1])
      else reject(new Error(`test/vm/assets.sh exited ${code}\n${err}${out}`))
    })
  })
  assets.catch(() => (assets = undefined)) // a later call may retry
  return assets
}

interface KernelManifest {
  version: string
  vmlinuz: string
  vmlinux: string | null
  modules: string
  initramfs: string
}

async function manifest(cache: string, kernel: Kernel): Promise<KernelManifest> {
  return JSON.parse(await readFile(join(cache, kernel, 'kernel.json'), 'utf8')) as KernelManifest
}

function noSpace(what: string, s: string): string {
  if (/\s/.test(s)) throw new Error(`${what} must not contain white space (kernel command line): ${s}`)
  return s
}

async function readOr(path: string, fallback: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return fallback
  }
}

function qemuArgs(o: { kernel: KernelManifest; outDir: string; nics: VmNic[]; memMb: number; cpus: number; cmdline: string[]; igbs: number }): string[] {
  // igb is PCIe: a q35 machine, where 00:1f is the chipset's (9p moves down)
  const q35 = o.igbs > 0
  const args = [
    '-accel',
    'tcg', // KVM does not work on the dev/CI machines
    '-machine',
    q35 ? 'q35' : 'pc',
    '-nodefaults',
    '-nographic',
    '-no-reboot',
    '-serial',
    'stdio',
    '-m',
    String(o.memMb),
    '-smp',
    String(o.cpus),
    // the ELF vmlinux boots through PVH (no decompression under emulation)
    '-kernel',
    o.kernel.vmlinux ?? o.kernel.vmlinuz,
    '-initrd',
    o.kernel.initramfs,
    '-append',
    o.cmdline.join(' '),
    // 9p shares at fixed slots after the NICs' (a NIC's slot gives its name)
    '-fsdev',
    'local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap',
    '-device',
    `virtio-9p-pci,fsdev=fsroot,mount_tag=root,addr=${q35 ? '0x1c' : '0x1e'}`,
    '-fsdev',
    `local,id=fsout,path=${o.outDir},security_model=none`,
    '-device',
    `virtio-9p-pci,fsdev=fsout,mount_tag=out,addr=${q35 ? '0x1d' : '0x1f'}`,
  ]
  for (let i = 0; i < o.igbs; i++) {
    const mac = `52:54:00:00:01:${(0x20 + i).toString(16)}`
    args.push('-device', `pcie-root-port,id=rp${i},chassis=${i + 1},slot=${i + 1},addr=0x${(0x10 + i).toString(16)}`)
    args.push('-device', `igb,bus=rp${i},netdev=g${i},mac=${mac},romfile=`, '-netdev', `hubport,id=g${i},hubid=${100 + i}`)
  }
  if (o.nics.length > (q35 ? 13 : 27)) throw new Error(q35 ? 'at most 13 NICs next to igbs (PCI slots 3..0x0f)' : 'at most 27 NICs (PCI slots 3..0x1d)')
  o.nics.forEach((nic, i) => {
    const dev = nic.model === 'e1000' ? 'e1000' : 'virtio-net-pci'
    const addr = `0x${(3 + i).toString(16)}`
    args.push('-device', `${dev},netdev=n${i},mac=${nic.mac},romfile=,addr=${addr}`)
    args.push('-netdev', `hubport,id=n${i},hubid=${i}`)
  })
  return args
}

/** Runs the scenario; if the guest kernel itself panicked or a CPU stalled
 *  (seen under software emulation, whatever the scenario does), boots once
 *  more: that is the emulator failing, not a result. A second failure is
 *  returned as it is, and fails the test. */
export async function runInVm(opts: RunOptions): Promise<VmRun> {
  const first = await runInVmOnce(opts)
  if (first.exitCode !== null || !emulatorFailed(first.console, first.bootMs !== null)) return first
  console.log(
    `[vm ${opts.kernel}] the guest kernel panicked or stalled (emulator), booting once more:\n${first.console
      .split('\n')
      .filter((l) => EMULATOR_FAILED.test(l) || BOOT_STALLED.test(l) || /RIP:/.test(l))
      .slice(0, 10)
      .join('\n')}`,
  )
  return runInVmOnce(opts)
}

/** The guest kernel's own words when the emulator fails it: a panic, or a
 *  CPU that stopped running (seen once under qemu 10 with 6.1: runc's CPU
 *  "stuck for 223s", for ever). */
const EMULATOR_FAILED = /Kernel panic|soft lockup - CPU#\d+ stuck/
/** An RCU stall before the scenario started: the boot hung (seen once under
 *  qemu 10 with 6.1 and 3 igb PFs: "rcu_preempt kthread timer wakeup didn't
 *  happen", for ever). Later, under load, such reports pass by themselves. */
const BOOT_STALLED = /rcu: INFO: rcu_\w+ detected stalls/

/** Whether the console shows the emulator failing the guest; `started`: the
 *  scenario had begun. qemu is stopped at the first sign (a stall is not
 *  waited out), and the scenario booted once more. */
function emulatorFailed(text: string, started: boolean): boolean {
  return EMULATOR_FAILED.test(text) || (!started && BOOT_STALLED.test(text))
}

async function runInVmOnce(opts: RunOptions): Promise<VmRun> {
  const cache = await ensureAssets()
  const kernel = await manifest(cache, opts.kernel)
  const outDir = await mkdtemp(join(tmpdir(), 'nicback-vm-'))
  await writeFile(join(outDir, 'scenario.sh'), opts.script, { mode: 0o755 })
  if (opts.setup !== undefined) await writeFile(join(outDir, 'setup.sh'), opts.setup, { mode: 0o755 })
  const cmdline = [
    'console=ttyS0',
    'panic=-1',
    'quiet',
    'cryptomgr.notests', // the crypto self-tests cost ~0.4 s of boot under emulation
    `nicback.init=${noSpace('checkout path', join(HERE, 'guest-init.sh'))}`,
    'nicback.script=/out/scenario.sh',
    `nicback.cwd=${CHECKOUT}`,
    `nicback.docker=${opts.docker ? 1 : 0}`,
    `nicback.moddir=${noSpace('cache path', kernel.modules)}`,
    ...(opts.setup !== undefined ? ['nicback.setup=/out/setup.sh'] : []),
    ...(opts.append ?? []),
  ]
  const args = qemuArgs({ kernel, outDir, nics: opts.nics ?? DEFAULT_NICS, memMb: opts.memMb ?? 1024, cpus: opts.cpus ?? 2, cmdline, igbs: opts.igbs ?? 0 })

  const t0 = performance.now()
  let consoleText = ''
  let bootMs: number | null = null
  let timedOut = false
  const qemu = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(qemu)
  const onData = (d: Buffer) => {
    consoleText += d.toString('utf8')
    if (bootMs === null && consoleText.includes('nicback-vm: scenario start')) {
      bootMs = Math.round(performance.now() - t0)
    }
    const tail = consoleText.slice(-4000)
    if (emulatorFailed(tail, bootMs !== null)) qemu.kill('SIGKILL')
  }
  qemu.stdout.on('data', onData)
  qemu.stderr.on('data', onData)
  const timer = setTimeout(() => {
    timedOut = true
    qemu.kill('SIGKILL')
  }, opts.timeoutMs ?? 180_000)
  await new Promise<void>((resolve) => {
    qemu.on('error', (e) => {
      consoleText += `\n[harness] cannot start ${QEMU}: ${e.message}\n`
      resolve()
    })
    qemu.on('close', () => resolve())
  })
  clearTimeout(timer)
  running.delete(qemu)
  const wallMs = Math.round(performance.now() - t0)
  if (timedOut) consoleText += `\n[harness] killed qemu after ${opts.timeoutMs ?? 180_000} ms\n`

  const exitText = (await readOr(join(outDir, 'exit'), '')).trim()
  const exitCode = /^\d+$/.test(exitText) ? Number(exitText) : null
  let result: unknown = null
  const resultText = await readOr(join(outDir, 'result.json'), '')
  if (resultText.trim() !== '') {
    try {
      result = JSON.parse(resultText)
    } catch (e) {
      consoleText += `\n[harness] /out/result.json is not JSON: ${(e as Error).message}\n`
    }
  }
  const log = await readOr(join(outDir, 'scenario.log'), '')
  const guestLog = await readOr(join(outDir, 'guest.log'), '')
  const keep = process.env.NICBACK_VM_KEEP === '1'
  if (!keep) await rm(outDir, { recursive: true, force: true })
  return { exitCode, result, log, console: consoleText, wallMs, bootMs, guestLog, timedOut, outDir: keep ? outDir : null }
}

/** What test/vm/guest/watch.mjs prints for one NIC (by MAC). */
export interface NicWatch {
  expected: string
  seen: string[]
  backMs: number | null
  /** udevd's database first had an entry for it (its rules ran; what
   *  nicback waits for before renaming it). */
  udevDbMs: number | null
  /** udevd done with it: it sent out the event of the kernel's last add or
   *  move of it (rules and RUN programs ran); without `udevadm monitor`, the
   *  entry's time. */
  udevMs: number | null
  namedMs: number | null
  final: string | null
}

/** A scenario's result: the watcher's view, and whether the host's devices
 *  are as before it. */
export interface WatchedScenario {
  watch: { ok: boolean; cmdMs: number | null; cmdStatus: number | null; nics: Record<string, NicWatch> }
  untouched: boolean
  after: string
}

/** When the last NIC of a watch reached `field`, in ms from the command's
 *  start; Infinity if one never did. */
export function lastNicMs(watch: WatchedScenario['watch'], field: 'backMs' | 'namedMs' | 'udevDbMs' | 'udevMs'): number {
  return Math.max(...Object.values(watch.nics).map((n) => n[field] ?? Infinity))
}

/** The median of a few timings (the upper one of an even count). */
export const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

export interface Uevent {
  action: string
  devpath: string
  /** INTERFACE= of the event (the name at that moment) */
  name: string
  ifindex: number | null
  /** DEVPATH_OLD= of a move event */
  devpathOld: string | null
}

/** Parses `udevadm monitor --kernel --property` output. */
export function parseUevents(text: string): Uevent[] {
  const events: Uevent[] = []
  for (const block of text.split(/\n\s*\n/)) {
    const head = /^KERNEL\[[\d.]+\]\s+(\S+)\s+(\S+)/m.exec(block)
    if (!head?.[1] || !head[2]) continue
    const prop = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(block)?.[1] ?? null
    const ifindex = prop('IFINDEX')
    events.push({
      action: head[1],
      devpath: head[2],
      name: prop('INTERFACE') ?? head[2].split('/').at(-1) ?? '',
      ifindex: ifindex === null ? null : Number(ifindex),
      devpathOld: prop('DEVPATH_OLD'),
    })
  }
  return events
}

/** "remove ens3", "add ens4", "move dev3 (from ens4)"... */
export function summarizeUevents(events: Uevent[]): string[] {
  return events.map((e) => {
    const from = e.devpathOld ? ` (from ${e.devpathOld.split('/').at(-1)})` : ''
    return `${e.action} ${e.name}${from}`
  })
}

/** The VM tier's describe: skipped only off CI when the VM cannot run here
 *  (a developer's laptop); on CI (CI=true) it runs, and requireVm() fails
 *  its tests, so an unusable VM tier is never reported as passed. */
export const describeVm = describe.skipIf(!(vmAvailable().ok || process.env.CI === 'true'))

/** First line of every VM test: fails with the reason when the VM cannot run. */
export function requireVm(): void {
  const a = vmAvailable()
  if (!a.ok) throw new Error(`the VM tier cannot run here: ${a.why}`)
}
