// nicback assign / release on real kernels with PCI NICs and Docker: the
// seed's scenario done by nicback (scenarios/assign.sh): a clean release
// (no devN ever on the host; name, MAC, MTU, admin state back), the return
// path after `docker rm -f` (the udev rule), and release after the container
// is gone.
import { readFileSync } from 'node:fs'
import { expect, test } from 'vitest'
import { KERNELS, type Kernel, runInVm, describeVm, requireVm } from './harness.js'

const SCRIPT = readFileSync(new URL('./scenarios/assign.sh', import.meta.url), 'utf8')
const M3 = '52:54:00:00:00:10'

interface LinkState {
  name: string
  mtu: number
  mac: string
  up: boolean
}
type Raw = Record<string, Record<string, unknown>>
const parse = <T>(s: unknown): T => JSON.parse(String(s)) as T

describeVm('assign / release with Docker, and a hostile container (issue 8)', () => {
  test.each(KERNELS)('%s: assign --to c1 --as ens4, release --from c1, docker rm -f, release after rm', async (kernel: Kernel) => {
    requireVm()
    const vm = await runInVm({ kernel, script: SCRIPT, docker: true, timeoutMs: 600_000 })
    const context = `scenario log:\n${vm.log}\nguest log:\n${vm.guestLog}\nconsole:\n${vm.console.slice(-3000)}`
    expect(vm.timedOut, context).toBe(false)
    expect(vm.exitCode, context).toBe(0)
    const r = vm.result as Raw | null
    expect(r, context).not.toBeNull()
    if (!r) return
    const all = JSON.stringify(r, null, 1)
    console.log(`[vm ${kernel} assign] boot ${vm.bootMs} ms, total ${vm.wallMs} ms; host saw during release: ${r.clean?.seen}`)

    // clean: ens3 goes to c1 as ens4, the container changes its MAC and MTU,
    // release --from c1 brings it back; the host only ever sees "ens3".
    const c = r.clean!
    expect(c.assignRc, `${c.assignErr}\n${all}`).toBe(0)
    expect(parse(c.assign)).toMatchObject({ hostName: 'ens3', insideName: 'ens4', where: 'container c1', container: { name: 'c1' } })
    expect(parse(c.inside)).toEqual({ name: 'ens4', mac: M3, up: true })
    expect(c.hostHadEns3).toBe(false)
    const away = parse<{ recordedName: string; state: string; container: { name?: string } | null }[]>(c.status).find((s) => s.recordedName === 'ens3')
    expect(away, all).toMatchObject({ state: 'away', container: { name: 'c1' } })
    expect(c.releaseRc, `${c.releaseErr}\n${all}`).toBe(0)
    expect(parse<{ results: { name: string; how: string; ok: boolean }[] }>(c.release).results).toEqual([expect.objectContaining({ name: 'ens3', how: 'pulled', ok: true })])
    const seen = String(c.seen).split(' ').filter(Boolean)
    expect(seen, all).toContain('ens3')
    expect(
      seen.filter((n) => n !== 'ens3'),
      all,
    ).toEqual([])
    const before = parse<LinkState>(c.before)
    expect(before).toEqual({ name: 'ens3', mtu: 1500, mac: M3, up: true })
    expect(parse(c.after)).toEqual(before)
    expect(String(c.inContainer)).not.toContain('ens4')

    // returned: the container dies with the NIC inside; the kernel hands it
    // back, nicback's udev rule gives it its name, MTU and state back.
    const b = r.returned!
    expect(b.assignRc, String(b.assign)).toBe(0)
    const watch = b.watch as { ok: boolean; nics: Record<string, { seen: string[]; final: string }> }
    expect(watch.ok, all).toBe(true)
    expect(watch.nics[M3]?.final).toBe('ens3')
    expect(parse(b.after)).toEqual(before)

    // gone: release --from after docker rm -f: whoever is first (the udev
    // rule or release's wait), the NIC ends home as it was.
    const g = r.gone!
    expect(g.assignRc, String(g.assign)).toBe(0)
    expect(g.releaseRc, String(g.release)).toBe(0)
    expect(parse<LinkState>(g.after)).toEqual(parse<LinkState>(g.before))

    // race (issue 8): the container's own device never reached the host.
    const race = r.race!
    expect(race.assignRc, String(race.assign)).toBe(0)
    expect(race.fakeOnHost, all).toBe(false)
    expect(race.fakeInContainer, all).toBe(1)
    expect(parse<LinkState>(race.after), all).toEqual(before)
    console.log(`[vm ${kernel} assign] release under a racing container, exit codes:${race.tries}`)

    // altname (issue 8): the altname planted on ens3 came back with it and
    // did not keep ens5 from its name.
    const alt = r.altname!
    expect(alt.assignRc, String(alt.assign)).toBe(0)
    expect(parse<string[]>(alt.altnamesWhenBack), all).toContain('ens5')
    expect((alt.watch as { ok: boolean }).ok, all).toBe(true)
    expect(parse<LinkState>(alt.ens3).name).toBe('ens3')
    expect(parse<LinkState>(alt.ens5).name).toBe('ens5')
    expect(parse<string[]>(alt.ens3altnames)).not.toContain('ens5')

    const end = r.end!
    expect(end.untouched, all).toBe(true)
    expect(
      parse<{ state: string }[]>(end.status).every((s) => s.state === 'home'),
      String(end.status),
    ).toBe(true)
  })
})
