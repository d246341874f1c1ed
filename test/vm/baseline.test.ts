// The problem nicback solves, reproduced without nicback on real kernels:
// a PCI NIC moved into a namespace and renamed there to a name taken on the
// host comes back as devN when the namespace dies. Also proves the harness.
import { beforeAll, expect, test } from 'vitest'
import { KERNELS, type Kernel, parseUevents, runInVm, summarizeUevents, describeVm, requireVm } from './harness.js'

/** The scenario: `mode` is how ens3 leaves and how its namespace dies. */
function scenario(mode: 'netns' | 'docker'): string {
  return String.raw`
set -eu
MAC=52:54:00:00:00:10 VIRTIO=52:54:00:00:00:11 MODE=${mode}
name_of() { # name_of MAC: the host device that has it
  local d a
  for d in /sys/class/net/*; do
    read -r a 2>/dev/null <"$d/address" || continue
    if [ "$a" = "$1" ]; then echo "${'$'}{d##*/}"; return 0; fi
  done
  return 1
}
now_ms() { local t=${'$'}{EPOCHREALTIME/./}; echo $((t / 1000)); }

stdbuf -oL udevadm monitor --kernel --property --subsystem-match=net >/tmp/uevents 2>&1 &
mon=$!
for _ in $(seq 250); do grep -q '^KERNEL - the kernel uevent' /tmp/uevents && break; sleep 0.02; done

before=$(name_of $MAC)
if [ $MODE = docker ]; then
  docker run -d --network none --name c1 nbtest sleep 1000 >/dev/null
  pid=$(docker inspect -f '{{.State.Pid}}' c1)
  ip link set "$before" netns "$pid"
  nsenter -t "$pid" -n ip link set "$before" name ens4
  t0=$(now_ms)
  docker rm -f c1 >/dev/null
else
  ip netns add c1
  ip link set "$before" netns c1
  ip -n c1 link set "$before" name ens4
  t0=$(now_ms)
  ip netns del c1
fi
t_cmd=$(now_ms)
name=
until name=$(name_of $MAC); do
  [ $(($(now_ms) - t0)) -lt 5000 ] || break
  sleep 0.01
done
t_back=$(now_ms)
[ -n "$name" ] || echo "the NIC $MAC did not come back within 5 s"
udevadm settle
sleep 0.3 # let late uevents reach the monitor
kill $mon
ifindex=null link=null
if [ -n "$name" ]; then
  ifindex=$(cat "/sys/class/net/$name/ifindex")
  link=$(ip -d -j link show dev "$name")
fi
jq -n --arg before "$before" --arg name "$name" --argjson ifindex "$ifindex" \
  --argjson backMs $((t_back - t0)) --argjson cmdMs $((t_cmd - t0)) \
  --arg afterSettle "$(name_of $MAC || true)" --arg virtio "$(name_of $VIRTIO || true)" \
  --argjson link "$link" --rawfile uevents /tmp/uevents --arg kernel "$(uname -r)" \
  '{kernel: $kernel, before: $before, name: $name, ifindex: $ifindex, backMs: $backMs, cmdMs: $cmdMs,
    afterSettle: $afterSettle, virtio: $virtio, link: $link, uevents: $uevents}' >/out/result.json
`
}

interface Result {
  kernel: string
  before: string
  name: string
  ifindex: number | null
  backMs: number
  cmdMs: number
  afterSettle: string
  virtio: string
  link: { altnames?: string[] }[] | null
  uevents: string
}

describeVm('baseline: without nicback a returning NIC is misnamed', () => {
  beforeAll(() => {
    requireVm()
  })

  test.each(
    KERNELS.flatMap((kernel) => [
      { kernel, mode: 'netns' as const },
      { kernel, mode: 'docker' as const },
    ]),
  )('$kernel, $mode: ens3 renamed ens4 inside comes back as devN', async ({ kernel, mode }: { kernel: Kernel; mode: 'netns' | 'docker' }) => {
    const vm = await runInVm({ kernel, script: scenario(mode), docker: mode === 'docker', timeoutMs: 200_000 })
    const r = vm.result as Result | null
    const events = r ? parseUevents(r.uevents) : []
    console.log(
      `[vm ${kernel} ${mode}] boot ${vm.bootMs} ms, total ${vm.wallMs} ms; back as ${r?.name} ` +
        `(ifindex ${r?.ifindex}) ${r?.backMs} ms after the namespace's end was asked ` +
        `(command took ${r?.cmdMs} ms); altnames ${JSON.stringify(r?.link?.[0]?.altnames ?? [])}\n` +
        `  uevents: ${summarizeUevents(events).join(', ')}`,
    )
    const context = `scenario log:\n${vm.log}\nguest log:\n${vm.guestLog}\nconsole:\n${vm.console.slice(-3000)}`
    expect(vm.timedOut, context).toBe(false)
    expect(vm.exitCode, context).toBe(0)
    expect(r, context).not.toBeNull()
    if (!r) return
    expect(r.kernel.startsWith(`${kernel}.`)).toBe(true)
    expect(r.before).toBe('ens3')
    expect(r.name).toMatch(/^dev\d+$/)
    expect(r.afterSettle).toBe(r.name) // udev does not rename it back (NamePolicy=keep)
    expect(r.virtio).toBe('ens4')
    // the host saw the NIC leave as ens3 and its last event names it devN
    expect(events[0]).toMatchObject({ action: 'remove', name: 'ens3' })
    const last = events.filter((e) => e.devpath.startsWith('/devices/pci0000:00/0000:00:03.0/')).at(-1)
    expect(last?.devpath.endsWith(`/net/${r.name}`)).toBe(true)
  })
})
