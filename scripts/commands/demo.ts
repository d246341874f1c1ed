// `nicback demo`: the seed's scenario end to end, in throwaway network
// namespaces only (never the machine's own): four stand-in NICs, one given to
// a "container" and renamed there, back as devN, then nicback restoring it.
//
// What it makes is named after its PID (netns nbdemo-PID-host, -ctr, -wire;
// the registry in $TMPDIR/nicback-demo-PID-XXXXXX), so that whatever a demo
// killed outright (SIGKILL, a power cut) leaves is told apart from anything
// else, and from a demo still running, and removed by the next demo. Ctrl-C,
// SIGTERM, SIGHUP or its reader going away (`nicback demo | head`) stop it
// between two steps: the step under way ends first (a child still running
// could otherwise make again what the clean-up just removed), then
// everything is removed and it exits 128 + the signal (141 for the pipe).
import { spawnSync } from 'node:child_process'
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { $ } from 'zx/core'
import { bold, parse, selfArgv, useColor, type Command } from '../lib/cli/cli.js'
import { onStdoutClosed } from '../lib/cli/pipes.js'

const help = `Usage: nicback demo

Shows the problem nicback solves and the fix, step by step, in throwaway
network namespaces (nbdemo-PID-*): the machine's own network is never
touched. Stand-in NICs are veth devices; because the kernel destroys veth
devices with their namespace (real NICs come back), the demo performs the
kernel's hand-back itself, with the name the kernel would choose
(dev<ifindex>). Everything is removed at the end, also on Ctrl-C, SIGTERM or
when its output is cut short (nicback demo | head); what a demo killed
outright left (nbdemo-PID-* of a PID that is no demo now, and its registry
in $TMPDIR/nicback-demo-PID-*) is removed by the next one. Bold headings on
a terminal only, and not with NO_COLOR set. Needs root.
`

/** The netns a demo with this PID makes (the only ones it ever removes). */
const NETNS = /^nbdemo-([1-9]\d*)-(host|ctr|wire)$/
/** Its registry's folder in $TMPDIR (mkdtemp's six characters). */
const STATE_DIR = /^nicback-demo-([1-9]\d*)-[A-Za-z0-9]{6}$/

/** Pure: what demos that are gone left behind: the netns and temporary
 *  folders named after a PID that `running` says is not a demo now (a demo
 *  still running keeps its own). Anything named otherwise is never listed. */
export function demoLeftovers(netns: readonly string[], tmp: readonly string[], running: (pid: number) => boolean): { netns: string[]; dirs: string[] } {
  const stale = (re: RegExp) => (name: string) => {
    const m = re.exec(name)
    return m !== null && !running(Number(m[1]))
  }
  return { netns: netns.filter(stale(NETNS)), dirs: tmp.filter(stale(STATE_DIR)) }
}

/** Whether PID is a nicback demo now: alive, with "demo" in its command line
 *  (a PID reused by anything else does not keep a dead demo's leftovers). */
function demoRunning(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('demo')
  } catch {
    return false
  }
}

const list = (dir: string) => {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

function delNetns(name: string): void {
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' })
}

/** Removes what demos that are gone left (see demoLeftovers); a folder only
 *  when it is a directory of our own user, as mkdtemp made it. */
function sweepLeftovers(): void {
  const { netns, dirs } = demoLeftovers(list('/run/netns'), list(tmpdir()), demoRunning)
  for (const ns of netns) delNetns(ns)
  const uid = process.geteuid?.() ?? 0
  for (const d of dirs) {
    const path = join(tmpdir(), d)
    try {
      const st = lstatSync(path)
      if (st.isDirectory() && st.uid === uid) rmSync(path, { recursive: true, force: true })
    } catch {}
  }
}

/** Thrown between steps once the demo has been told to stop. */
class Stop extends Error {}

export default {
  summary: 'show the problem and the fix in throwaway network namespaces',
  help,
  options: {},
  root: 'it creates network namespaces',
  async main(argv) {
    parse(argv, {}, false)
    const tag = `nbdemo-${process.pid}`
    const [host, ctr, wire] = ['host', 'ctr', 'wire'].map((n) => `${tag}-${n}`) as [string, string, string]
    let state: string | null = null
    let stopCode: number | null = null
    let cleaned = false
    const cleanup = () => {
      if (cleaned) return
      cleaned = true
      // A step cut short by the same Ctrl-C may still be letting go of its
      // namespace (ip netns del then fails once): try again for a while.
      const pause = new Int32Array(new SharedArrayBuffer(4))
      for (let i = 0; i < 40; i++) {
        const left = [host, ctr, wire].filter((ns) => list('/run/netns').includes(ns))
        if (left.length === 0) break
        if (i > 0) Atomics.wait(pause, 0, 0, 50)
        for (const ns of left) delNetns(ns)
      }
      if (state !== null) rmSync(state, { recursive: true, force: true })
    }
    // First signal: stop after the step under way. A second: now.
    const stop = (code: number) => () => {
      if (stopCode !== null) {
        cleanup()
        process.exit(stopCode)
      }
      stopCode = code
    }
    const signals = { SIGINT: stop(130), SIGTERM: stop(143), SIGHUP: stop(129) }
    for (const [sig, fn] of Object.entries(signals)) process.on(sig, fn)
    const unpipe = onStdoutClosed(stop(141))
    process.once('exit', cleanup)
    const color = useColor()
    try {
      sweepLeftovers()
      state = mkdtempSync(join(tmpdir(), `nicback-demo-${process.pid}-`))
      const nicback = selfArgv()
      const zx = $({ quiet: true, env: { ...process.env, NICBACK_STATE_DIR: state } })
      /** zx's $, not started once the demo is to stop. */
      const sh = (pieces: TemplateStringsArray, ...args: unknown[]) => {
        if (stopCode !== null) throw new Stop()
        return zx(pieces, ...(args as never[]))
      }
      const out = (s: string) => {
        if (stopCode !== null) throw new Stop()
        process.stdout.write(s)
      }
      const say = (s: string) => out(`\n${bold(s, color)}\n`)
      const show = async () => {
        const links = JSON.parse((await sh`ip -n ${host} -json link show`).stdout) as { ifname: string; ifindex: number; address: string }[]
        for (const l of links.filter((x) => x.ifname !== 'lo')) out(`  ${String(l.ifindex).padStart(3)}: ${l.ifname.padEnd(8)} ${l.address}\n`)
      }
      const inHost = async (...args: string[]) => {
        const r = await sh`ip netns exec ${host} ${nicback} ${args}`.nothrow()
        out(`${`${r.stdout}${r.stderr}`.trimEnd().replace(/^/gm, '  ')}\n`)
      }
      for (const ns of [host, ctr, wire]) await sh`ip netns add ${ns}`
      for (let i = 0; i < 4; i++) {
        await sh`ip -n ${host} link add eth${i} type veth peer name p${i} netns ${wire}`
        await sh`ip -n ${host} link set eth${i} up`
      }
      say(`1. A host (netns ${host}) with four NICs:`)
      await show()
      say('2. nicback records their names and identities:')
      await inHost('record', 'eth0', 'eth1', 'eth2', 'eth3')
      say("3. eth2 is given to a container and renamed eth0 inside (the seed's sequence):")
      out(`  ip link set eth2 netns ${ctr}; ip -n ${ctr} link set eth2 name eth0\n`)
      await sh`ip -n ${host} link set eth2 netns ${ctr}`
      await sh`ip -n ${ctr} link set eth2 name eth0`
      await show()
      say('4. The container dies. The kernel hands the NIC back; eth0 is taken on the host, so it comes back as dev<ifindex>:')
      const inside = JSON.parse((await sh`ip -n ${ctr} -json link show eth0`).stdout) as { ifindex: number }[]
      await sh`ip -n ${ctr} link set eth0 netns ${host} name dev${inside[0]!.ifindex}`
      await sh`ip netns del ${ctr}`
      await show()
      out('  Which port is dev' + inside[0]!.ifindex + "? The host's NIC management cannot tell.\n")
      say('5. nicback restore (what the udev rule runs by itself when the NIC returns):')
      await inHost('restore')
      await show()
      say('6. nicback status:')
      await inHost('status')
      return 0
    } catch (err) {
      // Told to stop: a step cut short by the same Ctrl-C (its child killed
      // with it) is part of the stop, not an error.
      if (stopCode !== null) return stopCode
      throw err
    } finally {
      cleanup()
      for (const [sig, fn] of Object.entries(signals)) process.off(sig, fn)
      unpipe()
      process.off('exit', cleanup)
    }
  },
} satisfies Command
