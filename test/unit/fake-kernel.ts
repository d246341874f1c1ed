// One in-memory kernel for the unit tests: network namespaces holding
// devices, changed by the same `ip link` commands nicback sends the real one
// (apply/ip.ts), answering as the real one does: EEXIST for a name or altname
// in use, EBUSY for renaming a device that is up on a kernel before 6.2 (and
// for a new MAC on a driver that wants the device down), ENODEV for a device
// that is not there. The netns and vm tiers prove the real kernel.
import type { BatchResult, Errno, Kernel, LineFailure } from '../../scripts/lib/apply/kernel.js'
import type { Netns } from '../../scripts/lib/system/netns.js'
import type { Link } from '../../scripts/lib/types.js'

/** A device as the kernel holds it: what `ip -j -d link` and sysfs show. */
export type FakeDevice = Link

export interface FakeOptions {
  /** A kernel before 6.2: renaming a device that is up is EBUSY. */
  renameOnlyDown?: boolean
  /** A driver that refuses a new MAC while up (EBUSY). */
  macOnlyDown?: boolean
  /** Each line of a batch whose command matches fails with this errno
   *  (once per listed entry, in order). */
  failures?: { match: (cmd: string[]) => boolean; errno: Errno; once?: boolean; text?: string; then?: () => void }[]
}

const WORDS: Record<Errno, string> = {
  EEXIST: 'RTNETLINK answers: File exists',
  EBUSY: 'RTNETLINK answers: Device or resource busy',
  ENODEV: 'Cannot find device',
  EOTHER: 'RTNETLINK answers: Operation not supported',
}

export class FakeKernel implements Kernel {
  /** Namespaces by path; '' is the host's. */
  readonly spaces = new Map<string, FakeDevice[]>([['', []]])
  /** Every batch run: its namespace path ('' host), commands, force. */
  readonly calls: { ns: string; cmds: string[][]; force: boolean }[] = []
  /** What nicback believes until the kernel answers otherwise (EBUSY). */
  renameWhileUp = true

  constructor(
    devices: Partial<FakeDevice>[] = [],
    readonly opts: FakeOptions = {},
  ) {
    for (const d of devices) this.add(d)
  }

  /** Adds a device (to the host's namespace unless `ns`). */
  add(d: Partial<FakeDevice>, ns = ''): FakeDevice {
    const all = [...this.spaces.values()].flat()
    const ifindex = d.ifindex ?? Math.max(1, ...all.map((x) => x.ifindex)) + 1
    const dev: FakeDevice = {
      name: `dev${ifindex}`,
      mac: `52:54:00:00:00:${ifindex.toString(16).padStart(2, '0')}`,
      mtu: 1500,
      up: false,
      bus: null,
      devPort: null,
      permAddr: null,
      driver: null,
      ifalias: null,
      kind: null,
      ...structuredClone(d),
      ifindex,
      altnames: [...(d.altnames ?? [])],
    }
    this.space(ns).push(dev)
    return dev
  }

  space(ns: string): FakeDevice[] {
    let s = this.spaces.get(ns)
    if (s === undefined) this.spaces.set(ns, (s = []))
    return s
  }

  /** name -> device of the host (or `ns`). */
  dev(name: string, ns = ''): FakeDevice | undefined {
    return this.space(ns).find((d) => d.name === name)
  }

  /** Every device's name in a namespace, by ifindex. */
  where(ns = ''): Record<number, string> {
    return Object.fromEntries(this.space(ns).map((d) => [d.ifindex, d.name]))
  }

  /** After every batch (tests: something else acts on the devices). */
  afterBatch?: () => void

  links(): Link[] {
    return structuredClone(this.space(''))
  }

  linksIn(ns: Netns): Link[] {
    return structuredClone(this.space(ns.path))
  }

  /** As facts/links.ts refreshLinks: the same devices, renamed as they are
   *  now; those gone from the host dropped. */
  refresh(before: readonly Link[]): Link[] {
    const now = new Map(this.space('').map((d) => [d.ifindex, d.name]))
    return before.flatMap((l) => (now.has(l.ifindex) ? [{ ...l, name: now.get(l.ifindex)! }] : []))
  }

  async linksAsync(): Promise<Link[]> {
    return this.links()
  }

  /** A device at `bus` in any namespace (one away is still present). */
  busPresent(bus: string): boolean {
    return [...this.spaces.values()].some((s) => s.some((d) => d.bus === bus))
  }

  async busPresentAsync(bus: string): Promise<boolean> {
    return this.busPresent(bus)
  }

  names(): Map<number, Buffer> {
    return new Map(this.space('').map((d) => [d.ifindex, Buffer.from(d.name)]))
  }

  altnames(ifindex: number): string[] {
    return this.space('').find((d) => d.ifindex === ifindex)?.altnames ?? []
  }

  batch(cmds: string[][], force: boolean, ns?: Netns): BatchResult {
    const path = ns?.path ?? ''
    this.calls.push({ ns: path, cmds, force })
    const failed: LineFailure[] = []
    for (const [i, cmd] of cmds.entries()) {
      const injected = this.opts.failures?.find((f) => f.match(cmd))
      if (injected !== undefined && injected.once !== false) this.opts.failures!.splice(this.opts.failures!.indexOf(injected), 1)
      injected?.then?.()
      const errno = injected?.errno ?? this.apply(path, cmd)
      if (errno === null) continue
      failed.push({ line: i + 1, errno, text: injected?.text ?? WORDS[errno] })
      if (!force) break
    }
    this.afterBatch?.()
    return { ok: failed.length === 0, failed }
  }

  private inUse(ns: string, name: string): boolean {
    return this.space(ns).some((d) => d.name === name || d.altnames.includes(name))
  }

  /** One `ip link` command; its errno, or null. */
  private apply(ns: string, cmd: string[]): Errno | null {
    const devs = this.space(ns)
    const at = cmd.indexOf('dev') + 1
    const ref = cmd[at]!
    const d = devs.find((x) => x.name === ref) ?? (/^if\d+$/.test(ref) ? devs.find((x) => x.ifindex === Number(ref.slice(2))) : undefined)
    if (d === undefined) return 'ENODEV'
    if (cmd[1] === 'property') {
      const alt = cmd[at + 2]!
      if (cmd[2] === 'add') {
        if (this.inUse(ns, alt)) return 'EEXIST'
        d.altnames.push(alt)
      } else {
        if (!d.altnames.includes(alt)) return 'ENODEV'
        d.altnames = d.altnames.filter((a) => a !== alt)
      }
      return null
    }
    const [what, value] = [cmd[at + 1]!, cmd[at + 2]!]
    switch (what) {
      case 'up':
      case 'down':
        d.up = what === 'up'
        return null
      case 'mtu':
        d.mtu = Number(value)
        return null
      case 'address':
        if (d.up && this.opts.macOnlyDown) return 'EBUSY'
        d.mac = value
        return null
      case 'name':
        if (d.name === value) return null
        if (this.inUse(ns, value)) return 'EEXIST'
        if (d.up && this.opts.renameOnlyDown) return 'EBUSY'
        d.name = value
        return null
      case 'netns': {
        const name = cmd[at + 3] === 'name' ? cmd[at + 4]! : d.name
        const to = value.startsWith('/proc/') && value.endsWith('/ns/net') ? '' : value
        if (this.inUse(to, name)) return 'EEXIST'
        devs.splice(devs.indexOf(d), 1)
        this.space(to).push({ ...d, name })
        return null
      }
    }
    return 'EOTHER'
  }
}
