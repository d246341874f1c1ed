// `nicback demo`: the seed's scenario end to end, in throwaway network
// namespaces only (never the machine's own): four stand-in NICs, one given to
// a "container" and renamed there, back as devN, then nicback restoring it.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { $ } from 'zx/core'
import { parse, type Command } from '../lib/cli/cli.js'
import { distDir, nodeBin } from '../lib/system/paths.js'

const help = `Usage: nicback demo

Shows the problem nicback solves and the fix, step by step, in throwaway
network namespaces (nbdemo-*): the machine's own network is never touched.
Stand-in NICs are veth devices; because the kernel destroys veth devices with
their namespace (real NICs come back), the demo performs the kernel's
hand-back itself, with the name the kernel would choose (dev<ifindex>).
Everything is removed at the end, also on Ctrl-C. Needs root.
`

export default {
  summary: 'show the problem and the fix in throwaway network namespaces',
  help,
  async main(argv) {
    parse(argv, {}, false)
    const tag = `nbdemo-${process.pid}`
    const [host, ctr, wire] = ['host', 'ctr', 'wire'].map((n) => `${tag}-${n}`) as [string, string, string]
    const state = mkdtempSync(join(tmpdir(), 'nicback-demo-'))
    const nicback = [nodeBin, join(distDir(), 'nicback.mjs')]
    const sh = $({ quiet: true, env: { ...process.env, NICBACK_STATE_DIR: state } })
    const say = (s: string) => process.stdout.write(`\n\x1b[1m${s}\x1b[0m\n`)
    const show = async () => {
      const links = JSON.parse((await sh`ip -n ${host} -json link show`).stdout) as { ifname: string; ifindex: number; address: string }[]
      for (const l of links.filter((x) => x.ifname !== 'lo')) process.stdout.write(`  ${String(l.ifindex).padStart(3)}: ${l.ifname.padEnd(8)} ${l.address}\n`)
    }
    const inHost = async (...args: string[]) => {
      const out = await sh`ip netns exec ${host} ${nicback} ${args}`.nothrow()
      process.stdout.write(`${`${out.stdout}${out.stderr}`.trimEnd().replace(/^/gm, '  ')}\n`)
    }
    const cleanup = () => {
      for (const ns of [host, ctr, wire]) $.sync({ quiet: true, nothrow: true })`ip netns del ${ns}`
      rmSync(state, { recursive: true, force: true })
    }
    const onSignal = () => {
      cleanup()
      process.exit(130)
    }
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal)
    try {
      for (const ns of [host, ctr, wire]) await sh`ip netns add ${ns}`
      for (let i = 0; i < 4; i++) {
        await sh`ip -n ${host} link add eth${i} type veth peer name p${i} netns ${wire}`
        await sh`ip -n ${host} link set eth${i} up`
      }
      say(`1. A host (netns ${host}) with four NICs:`)
      await show()
      say('2. nicback records their names and identities:')
      await inHost('record', 'eth0', 'eth1', 'eth2', 'eth3')
      say('3. eth2 is given to a container and renamed eth0 inside (the seed\'s sequence):')
      process.stdout.write(`  ip link set eth2 netns ${ctr}; ip -n ${ctr} link set eth2 name eth0\n`)
      await sh`ip -n ${host} link set eth2 netns ${ctr}`
      await sh`ip -n ${ctr} link set eth2 name eth0`
      await show()
      say('4. The container dies. The kernel hands the NIC back; eth0 is taken on the host, so it comes back as dev<ifindex>:')
      const inside = JSON.parse((await sh`ip -n ${ctr} -json link show eth0`).stdout) as { ifindex: number }[]
      await sh`ip -n ${ctr} link set eth0 netns ${host} name dev${inside[0]!.ifindex}`
      await sh`ip netns del ${ctr}`
      await show()
      process.stdout.write('  Which port is dev' + inside[0]!.ifindex + '? The host\'s NIC management cannot tell.\n')
      say('5. nicback restore (what the udev rule runs by itself when the NIC returns):')
      await inHost('restore')
      await show()
      say('6. nicback status:')
      await inHost('status')
      return 0
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal)
      cleanup()
    }
  },
} satisfies Command
