// Reads the facts about network devices of the current netns: `ip -j -d link`
// for names, altnames, MACs and flags; sysfs for what netlink does not carry
// (the device's place on its bus, dev_port, driver, addr_assign_type).
//
// Every value here may have been set by a container a moment ago, with any
// byte the kernel allows: ip prints control bytes raw inside JSON strings and
// names need not be UTF-8. So the output is read as bytes, made valid JSON,
// and each name is checked on its own; one device's odd name never stops the
// reading of the others.
//
// sysfs shows the netns it was mounted in: `ip netns exec` remounts it, but
// `nsenter --net` does not, so readLinks() checks that the two sources agree.
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs'
import { access, readFile, realpath as realpathLater } from 'node:fs/promises'
import { runBytes, runBytesAsync } from '../system/exec.js'
import { ipInBytes, type Netns } from '../system/netns.js'
import { log } from '../system/log.js'
import type { Link } from '../types.js'
import { escapeBytes, utf8OrNull } from './names.js'
import { nicbackError } from '../system/errors.js'

export const SYS_NET = '/sys/class/net'
export const PCI_ADDR = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/

/** A device path below /sys/devices (or a uevent DEVPATH, which is the same
 *  path without `/sys`) to the NIC's bus identity: the PCI function's address
 *  for a PCI NIC, and for a virtio child (`0000:00:04.0/virtio1`) too; else
 *  the path itself for other buses (a USB NIC by its port, not by the USB
 *  controller it shares with other USB NICs); null for virtual devices. */
export function busFromDevicePath(path: string): string | null {
  const rel = path.replace(/^(\/sys)?\/devices\//, '').replace(/\/net\/[^/]+$/, '')
  if (rel === '' || rel === 'virtual' || rel.startsWith('virtual/') || rel === path) return null
  const parts = rel.split('/')
  const fn = /^virtio\d+$/.test(parts[parts.length - 1]!) ? parts[parts.length - 2] : parts[parts.length - 1]
  return fn !== undefined && PCI_ADDR.test(fn) ? fn : rel
}

/** A path below /sys/class/net/<name>: a Buffer when the name is not UTF-8. */
function sysPath(name: string | Buffer, key: string): string | Buffer {
  return typeof name === 'string' ? `${SYS_NET}/${name}/${key}` : Buffer.concat([Buffer.from(`${SYS_NET}/`), name, Buffer.from(`/${key}`)])
}

const attr = (name: string | Buffer, key: string): string | null => attrAt(sysPath(name, key))

/** realpath(3) in one call: node's own realpathSync lstat()s every path
 *  component, and a sysfs device path has ~6 (measured: a 24-device read
 *  under emulation spent a third of its time there). */
function realpath(path: string | Buffer): string | null {
  try {
    return realpathSync.native(path, 'utf8')
  } catch {
    return null
  }
}

function numberOrNull(s: string | null): number | null {
  if (s === null || !/^-?\d{1,16}$/.test(s)) return null
  const n = Number(s)
  return Number.isSafeInteger(n) ? n : null
}

/** One sysfs read a fact needs: an attribute's text, or where a link points
 *  (null when absent). The facts are written once as a sequence of these,
 *  then read blocking (the udev hot path, restores) or not (the agent's
 *  metrics, while restores and probes go on). */
type SysfsRead = { attr: string | Buffer } | { realpath: string | Buffer }
type Reads<T> = Generator<SysfsRead, T, string | null>

function readNow<T>(reads: Reads<T>): T {
  let step = reads.next()
  while (!step.done) {
    const r = step.value
    step = reads.next('attr' in r ? attrAt(r.attr) : realpath(r.realpath))
  }
  return step.value
}

async function readLater<T>(reads: Reads<T>): Promise<T> {
  let step = reads.next()
  while (!step.done) {
    const r = step.value
    const got = 'attr' in r ? readFile(r.attr, 'utf8').then((t) => t.trim()) : realpathLater(r.realpath, 'utf8')
    step = reads.next(await got.catch(() => null))
  }
  return step.value
}

function attrAt(path: string | Buffer): string | null {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return null
  }
}

function* sysfsReads(name: string | Buffer): Reads<SysfsFacts> {
  const device = yield { realpath: sysPath(name, 'device') }
  const driver = device === null ? null : yield { realpath: `${device}/driver` }
  const bus = device === null ? null : busFromDevicePath(device)
  const mac = yield { attr: sysPath(name, 'address') }
  const ifindex = numberOrNull(yield { attr: sysPath(name, 'ifindex') })
  const devPort = device === null ? null : numberOrNull(yield { attr: sysPath(name, 'dev_port') })
  // addr_assign_type 0 (NET_ADDR_PERM): the current MAC of a NIC on a bus
  // is its burned-in one; otherwise sysfs does not say what that is.
  const permanent = bus !== null && numberOrNull(yield { attr: sysPath(name, 'addr_assign_type') }) === 0
  return { ifindex, bus, devPort, driver: driver === null ? null : (driver.split('/').pop() ?? null), mac, permAddr: permanent ? mac : null }
}

export interface SysfsFacts {
  ifindex: number | null
  bus: string | null
  devPort: number | null
  driver: string | null
  mac: string | null
  permAddr: string | null
}

/** The sysfs half of a Link. */
export function sysfsFacts(name: string | Buffer): SysfsFacts {
  return readNow(sysfsReads(name))
}

/** One device of `ip -json -details link show`. */
export interface IpLink {
  ifindex: number
  ifname: string
  flags?: string[]
  mtu: number
  address?: string
  permaddr?: string
  altnames?: string[]
  ifalias?: string
  link_type?: string
  linkinfo?: { info_kind?: string }
  /** iproute2 5.14+: the parent device on its bus (`pci` / `0000:00:03.0`). */
  parentbus?: string
  parentdev?: string
}

/** The name's bytes when it is not UTF-8 (set by parseIpJson). */
export const RAW_NAME = Symbol('raw name bytes')
type WithRaw = IpLink & { [RAW_NAME]?: Buffer }

/** `ip -json` output (bytes) as objects, whatever bytes the devices' names,
 *  altnames and ifalias hold: ip escapes only `"`, `\` and \b\f\n\r\t inside
 *  strings and prints every other byte raw. Control bytes become \u escapes;
 *  every string is decoded as UTF-8 where it is UTF-8 and shown with \xNN
 *  escapes where it is not (such a name also gets " (not UTF-8)", which no
 *  real name can contain, and its bytes under RAW_NAME). */
export function parseIpJson(out: Buffer): IpLink[] {
  // latin1: one char per byte, so every string still holds its bytes. Bytes
  // < 0x20 are only ever inside strings (ip's JSON has no other white space
  // than a final newline), where JSON wants them escaped.
  let text = out.toString('latin1')
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u0009\u000b-\u001f]/g
  if (control.test(text)) text = text.replace(control, (c) => `\\u00${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  if (text.trim() === '') return []
  let odd = false
  const data = JSON.parse(text, (_key, value: unknown) => {
    // eslint-disable-next-line no-control-regex
    if (typeof value !== 'string' || /^[\u0000-\u007f]*$/.test(value)) return value
    const bytes = Buffer.from(value, 'latin1')
    const s = utf8OrNull(bytes)
    if (s !== null) return s
    odd = true
    return new NotUtf8(bytes)
  }) as unknown
  if (!Array.isArray(data)) throw nicbackError('command_failed', 'read the links', 'ip -json did not print an array')
  if (!odd) return data as IpLink[]
  return (data as WithRaw[]).map((l) => {
    const fixed = unwrap(l)
    const name = l.ifname as unknown
    if (name instanceof NotUtf8) (fixed as WithRaw)[RAW_NAME] = name.bytes
    return fixed
  })
}

/** A string of ip's output that is not UTF-8. */
class NotUtf8 {
  constructor(readonly bytes: Buffer) {}
  get text(): string {
    return `${escapeBytes(this.bytes)} (not UTF-8)`
  }
}

/** Replaces every NotUtf8 in an object by its text. */
function unwrap<T>(x: T): T {
  if (x instanceof NotUtf8) return x.text as T
  if (Array.isArray(x)) return x.map(unwrap) as T
  if (typeof x === 'object' && x !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(x)) out[k] = unwrap(v)
    return out as T
  }
  return x
}

/** `ip -json ARGS...` in the current netns, hostile bytes and all. */
export function ipLinks(args: string[] = ['-details', 'link', 'show'], runner = runBytes): IpLink[] {
  return parseIpJson(runner('ip', ['-json', ...args]))
}

/** The altnames device `ifindex` of this netns has now ([] if it is gone). */
export function altnamesOf(ifindex: number): string[] {
  const l = ipLinks(['link', 'show']).find((x) => x.ifindex === ifindex)
  return l === undefined ? [] : strings(l.altnames)
}

const str = (x: unknown): string | null => (typeof x === 'string' ? x : null)
const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((a): a is string => typeof a === 'string') : [])

/** The half of a Link that netlink carries, the same in any netns. Fields of
 *  an unexpected type are dropped, not trusted. */
export function fromNetlink(l: IpLink): Omit<Link, 'bus' | 'devPort' | 'driver'> {
  return {
    ifindex: l.ifindex,
    name: l.ifname,
    altnames: strings(l.altnames),
    mac: str(l.address),
    permAddr: str(l.permaddr),
    ifalias: str(l.ifalias),
    kind: str(l.linkinfo?.info_kind),
    up: strings(l.flags).includes('UP'),
    mtu: typeof l.mtu === 'number' ? l.mtu : 0,
  }
}

export const isLoopback = (l: IpLink) => l.link_type === 'loopback'

const wellFormed = (l: IpLink) => Number.isSafeInteger(l.ifindex) && l.ifindex > 0 && typeof l.ifname === 'string'

/** Every network device of the current netns except loopback. A device
 *  renamed between the netlink dump and the sysfs read (udev, another
 *  nicback) is simply read again; a device that sysfs shows with another
 *  ifindex means /sys belongs to another netns, which is an error. */
export function readLinks(runner = runBytes): Link[] {
  for (let attempt = 1; ; attempt++) {
    const raw = hostLinks(ipLinks(['-details', 'link', 'show'], runner))
    const links = withSysfs(
      raw,
      raw.map((l) => sysfsFacts(nameBytes(l))),
      attempt === 3,
      log.warn,
    )
    if (links !== null) return links
  }
}

/** readLinks without blocking the event loop (`ip` and sysfs read
 *  asynchronously): the agent's metrics. `signal` stops it (AbortError). */
export async function readLinksAsync(signal?: AbortSignal): Promise<Link[]> {
  for (let attempt = 1; ; attempt++) {
    const raw = hostLinks(parseIpJson(await runBytesAsync('ip', ['-json', '-details', 'link', 'show'], signal)))
    // A NIC leaving while the metrics are read is no one's concern: the
    // next read counts it where it went (a storm of pods would log a line
    // per VF).
    const links = withSysfs(raw, await Promise.all(raw.map((l) => readLater(sysfsReads(nameBytes(l))))), attempt === 3, log.debug)
    if (links !== null) return links
  }
}

const hostLinks = (raw: IpLink[]) => raw.filter((l) => !isLoopback(l) && wellFormed(l))
const nameBytes = (l: IpLink) => (l as WithRaw)[RAW_NAME] ?? l.ifname

/** Both halves together; null when a device was renamed under us (read
 *  again), unless `lastTry`. */
function withSysfs(raw: IpLink[], facts: SysfsFacts[], lastTry: boolean, say: (msg: string) => void): Link[] | null {
  if (!lastTry && facts.some((f) => f.ifindex === null)) return null
  // Which of those are still in this netns: one that left (a pod took it)
  // is no one's concern, its remove event records it.
  const here = facts.some((f) => f.ifindex === null) ? sysfsNames() : null
  return raw.map((l, i) => {
    let s = facts[i]!
    if (s.ifindex === null) {
      // Renamed or gone on every try: known by netlink alone this time (as a
      // device on no bus, which nicback never renames); its own event follows.
      if (here?.has(l.ifindex) === false) log.debug(`${l.ifname} (ifindex ${l.ifindex}) left this network namespace while nicback read it`, { nic: l.ifname, ifindex: l.ifindex, cause: 'it left this network namespace while nicback read it' })
      else say(`${l.ifname} (ifindex ${l.ifindex}) changed while nicback read it; reading it as unknown this time`)
      s = { ifindex: l.ifindex, bus: null, devPort: null, driver: null, mac: null, permAddr: null }
    }
    if (s.ifindex !== l.ifindex) {
      throw nicbackError(
        'sysfs_mismatch',
        'read the links',
        `sysfs shows another network namespace than netlink (${l.ifname} has ifindex ${l.ifindex} in netlink, ${s.ifindex} in /sys): run nicback through "ip netns exec NS", which remounts /sys, not "nsenter --net"`,
        {
          nic: l.ifname,
        },
      )
    }
    const nl = fromNetlink(l)
    return {
      ...nl,
      // iproute2 prints permaddr only when it differs from the current MAC.
      permAddr: nl.permAddr ?? s.permAddr,
      bus: s.bus,
      devPort: s.devPort,
      driver: s.driver,
    }
  })
}

/** Every device of this netns as sysfs names it now: ifindex -> name bytes.
 *  The executor resolves each step's device through this just before it acts. */
export function sysfsNames(): Map<number, Buffer> {
  const out = new Map<number, Buffer>()
  for (const name of readdirSync(SYS_NET, { encoding: 'buffer' })) {
    const ifindex = numberOrNull(attr(name, 'ifindex'))
    if (ifindex !== null) out.set(ifindex, name)
  }
  return out
}

/** The ifindexes of the host's devices on a bus (sysfs; not /devices/virtual:
 *  veth, bridges...): those a kernel can hand back from a dead netns. */
export function busDeviceIndexes(): number[] {
  const out: number[] = []
  for (const name of readdirSync(SYS_NET, { encoding: 'buffer' })) {
    let target: string
    try {
      target = readlinkSync(Buffer.concat([Buffer.from(`${SYS_NET}/`), name]), 'utf8')
    } catch {
      continue // gone or renamed since the listing: the next look sees it
    }
    if (busFromDevicePath(target.replace(/^(\.\.\/)+/, '/')) === null) continue
    const ifindex = numberOrNull(attr(name, 'ifindex'))
    if (ifindex !== null) out.push(ifindex)
  }
  return out
}

/** Whether a bus identity (busFromDevicePath) has a device now: the PCI
 *  function, or the device path of another bus. Whatever driver it has and
 *  whichever netns its network device is in. */
export function busPresent(bus: string): boolean {
  return existsSync(busPath(bus))
}

/** Whether a network device of that bus position is in this network
 *  namespace: sysfs lists under a device's net/ only the network devices of
 *  the namespace that mounted it. */
export function busOnHost(bus: string): boolean {
  try {
    return readdirSync(`${busPath(bus)}/net`).length > 0
  } catch {
    return false
  }
}

/** The same, without blocking (the agent). */
export async function busPresentAsync(bus: string): Promise<boolean> {
  return access(busPath(bus)).then(
    () => true,
    () => false,
  )
}

const busPath = (bus: string) => (PCI_ADDR.test(bus) ? `/sys/bus/pci/devices/${bus}` : `/sys/devices/${bus}`)

/** A name's bytes as Link.name shows it. */
export function displayName(bytes: Buffer): string {
  return utf8OrNull(bytes) ?? new NotUtf8(bytes).text
}

/** The same devices read again, from sysfs alone: where each ifindex is now
 *  (name), and its MAC, MTU and admin state. What a restore reads back to
 *  confirm its work without another `ip` process. Devices no longer in this
 *  netns are left out; altnames are not re-read. */
export function refreshLinks(before: readonly Link[]): Link[] {
  const nameOf = sysfsNames()
  return before.flatMap((l) => {
    const bytes = nameOf.get(l.ifindex)
    if (bytes === undefined) return []
    const flags = Number.parseInt(attr(bytes, 'flags') ?? '', 16)
    return [{ ...l, name: displayName(bytes), mac: attr(bytes, 'address') ?? l.mac, mtu: numberOrNull(attr(bytes, 'mtu')) ?? l.mtu, up: Number.isNaN(flags) ? l.up : (flags & 1) === 1 }]
  })
}

/** The bus identity of a device's parent (`ip -d link`'s parentbus and
 *  parentdev): /sys/bus is not namespaced, so this works for a device in any
 *  netns. Same form as sysfsFacts (nearest PCI function for a virtio child). */
export function busOfParent(bus: string, dev: string): string | null {
  // Both come from the device: a container cannot set them, but keep them
  // to one path component all the same.
  if (!/^[\w.:-]+$/.test(bus) || !/^[\w.:-]+$/.test(dev)) return null
  const path = realpath(`/sys/bus/${bus}/devices/${dev}`)
  return path === null ? null : busFromDevicePath(path)
}

/** Pure: Links out of `ip -json -details link show` run in another netns,
 *  where sysfs cannot be read (it shows nicback's own netns). */
export function linksFromIpJson(raw: IpLink[], busOf: (bus: string, dev: string) => string | null = busOfParent): Link[] {
  return raw
    .filter((l) => !isLoopback(l) && wellFormed(l))
    .map((l) => ({
      ...fromNetlink(l),
      bus: typeof l.parentbus === 'string' && typeof l.parentdev === 'string' ? busOf(l.parentbus, l.parentdev) : null,
      devPort: null,
      driver: null,
    }))
}

/** The devices of another network namespace, by handle. */
export function readLinksIn(ns: Netns): Link[] {
  return linksFromIpJson(parseIpJson(ipInBytes(ns, ['-json', '-details', 'link', 'show'])))
}
