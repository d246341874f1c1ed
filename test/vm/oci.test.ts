// The OCI hook path on real kernels with emulated PCI NICs, udev's rule taken
// out so that only the hooks can give a NIC its name back
// (scenarios/oci.sh): runc on a bundle carrying nicback's hooks, Docker
// through nicback-runtime (`docker run --runtime nicback -e NICBACK_NICS=...`,
// `docker rm -f`), what the shim costs a `docker run --rm`, and podman with
// the hooks.d files when podman is installed on the machine.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, expect, test } from 'vitest'
import { CHECKOUT, KERNELS, runInVm, describeVm, requireVm, type Kernel } from './harness.js'

const SCRIPT = readFileSync(join(CHECKOUT, 'test/vm/scenarios/oci.sh'), 'utf8')

interface Away {
  via: string
  leftAs: string
  insideName?: string
  container?: { id?: string; pid?: number }
}
interface Result {
  install: { log: string; daemonJson: { runtimes: Record<string, { path: string }> }; runtimes: Record<string, unknown>; rulePresent: boolean }
  runc: { runRc: number; runMs: number; inside: string; hostDuring: string; away: Away | null; deleteRc: number; deleteMs: number; after: string; upAfter: boolean; mtuAfter: number; log: string }
  docker: {
    runRc: number
    runMs: number
    containerId: string
    inside: string
    insideIp: string
    hostDuring: string
    away: Away | null
    rmRc: number
    rmMs: number
    after: string
    homeMs: number
    upAfter: boolean
    mtuAfter: number
    err: string
  }
  cost?: { runcMs: number; nicbackMs: number }
  podman?: { version: string; runRc: number; runMs: number; inside: string; away: Away | null; rmRc: number; rmMs: number; after: string; homeMs: number; upAfter: boolean; mtuAfter: number; log: string }
  end: { untouched: boolean; after: string; syslog: string }
}

describeVm('OCI hooks: the NIC is inside under its container name, and home under its host name when the container is gone', () => {
  beforeAll(() => {
    requireVm()
  })

  test.each(KERNELS)('%s: runc, docker (nicback-runtime), podman', async (kernel: Kernel) => {
    const vm = await runInVm({ kernel, script: SCRIPT, docker: true, timeoutMs: 600_000, memMb: 1536 })
    const r = vm.result as Result | null
    const context = `scenario log:\n${vm.log}\nresult:\n${JSON.stringify(r, null, 2)}\nguest log:\n${vm.guestLog}\nconsole:\n${vm.console.slice(-3000)}`
    expect(vm.timedOut, context).toBe(false)
    expect(vm.exitCode, context).toBe(0)
    expect(r, context).not.toBeNull()
    if (!r) return
    console.log(
      `[vm ${kernel}] boot ${vm.bootMs} ms, total ${vm.wallMs} ms\n` +
        `  runc:   run ${r.runc.runMs} ms, inside as ${r.runc.inside}; delete --force ${r.runc.deleteMs} ms, then ${r.runc.after}\n` +
        `  docker: run ${r.docker.runMs} ms, inside as ${r.docker.inside}; rm -f ${r.docker.rmMs} ms, name back ${r.docker.homeMs} ms after rm -f started (read right after rm: ${r.docker.after})\n` +
        `  cost:   docker run --rm (no NICs), median of 3: runc ${r.cost?.runcMs} ms, nicback ${r.cost?.nicbackMs} ms\n` +
        `  podman: ${r.podman ? `run ${r.podman.runMs} ms, inside as ${r.podman.inside}; rm -f ${r.podman.rmMs} ms, then ${r.podman.after} (${r.podman.homeMs} ms)` : 'not installed here'}`,
    )

    // Installed for Docker, with udev's rule out of the way.
    expect(r.install.daemonJson.runtimes.nicback, context).toEqual({ path: '/usr/local/sbin/nicback-runtime' })
    expect(Object.keys(r.install.runtimes)).toContain('nicback')
    expect(r.install.rulePresent).toBe(false)

    // runc run on a bundle with the hooks: ens3 is eth0 inside; delete brings it home.
    expect(r.runc.runRc, r.runc.log).toBe(0)
    expect(r.runc.inside).toBe('eth0')
    expect(r.runc.hostDuring).toBe('-')
    expect(r.runc.away).toMatchObject({ via: 'hook', leftAs: 'ens3', insideName: 'eth0', container: { id: 'r1' } })
    expect(r.runc.deleteRc, r.runc.log).toBe(0)
    expect(r.runc.after).toBe('ens3')
    // up, MTU 1400 as it was when it left (set so by the scenario)
    expect([r.runc.upAfter, r.runc.mtuAfter]).toEqual([true, 1400])

    // docker run --runtime nicback -e NICBACK_NICS=ens3:eth0, then docker rm -f:
    // ens3 is back under its name when docker rm returns.
    expect(r.docker.runRc, r.docker.err).toBe(0)
    expect(r.docker.inside, context).toBe('eth0')
    expect(r.docker.insideIp).toMatch(/eth0/)
    expect(r.docker.hostDuring).toBe('-')
    expect(r.docker.away).toMatchObject({ via: 'hook', leftAs: 'ens3', insideName: 'eth0', container: { id: r.docker.containerId } })
    expect(r.docker.rmRc, r.docker.err).toBe(0)
    expect(r.docker.after, context).toBe('ens3')
    expect([r.docker.upAfter, r.docker.mtuAfter]).toEqual([true, 1400])
    expect(r.docker.away?.container?.id).toBe(r.docker.containerId)

    // test/vm/assets.sh installs podman: its scenario always runs.
    expect(r.podman, `podman did not run in the guest\n${context}`).toBeDefined()
    if (r.podman) {
      expect(r.podman.runRc, r.podman.log).toBe(0)
      expect(r.podman.inside, r.podman.log).toBe('eth0')
      expect(r.podman.away).toMatchObject({ via: 'hook', leftAs: 'ens4', insideName: 'eth0' })
      expect(r.podman.rmRc, r.podman.log).toBe(0)
      expect(r.podman.after, r.podman.log).toBe('ens4')
      expect([r.podman.upAfter, r.podman.mtuAfter]).toEqual([true, 1400])
    }

    // Every device of the host is as it was: same MACs under the same names.
    expect(r.end.untouched, r.end.after).toBe(true)
  })
})
