// Reads the facts about network devices of the current netns: `ip -j -d link`
// for names, altnames, MACs and flags; sysfs for what netlink does not carry
// (the device's place on its bus, dev_port, driver, addr_assign_type).
//
// sysfs shows the netns it was mounted in: `ip netns exec` remounts it, but
// `nsenter --net` does not, so readLinks() checks that the two sources agree.
import { readdirSync, readFileSync, realpathSync } from 'node:fs'
import { ipJson } from './exec.js'
import type { Link } from './types.js'

const SYS = '/sys/class/net'
const PCI_ADDR = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/

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

function attr(name: string, key: string): string | null {
  try {
    return readFileSync(`${SYS}/${name}/${key}`, 'utf8').trim()
  } catch {
    return null
  }
}

function realpath(path: string): string | null {
  try {
    return realpathSync(path)
  } catch {
    return null
  }
}

function numberOrNull(s: string | null): number | null {
  if (s === null || s === '') return null
  const n = Number(s)
  return Number.isInteger(n) ? n : null
}

/** The sysfs half of a Link. */
export function sysfsFacts(name: string) {
  const device = realpath(`${SYS}/${name}/device`)
  const driver = device === null ? null : realpath(`${device}/driver`)
  const bus = device === null ? null : busFromDevicePath(device)
  const mac = attr(name, 'address')
  return {
    ifindex: numberOrNull(attr(name, 'ifindex')),
    bus,
    devPort: device === null ? null : numberOrNull(attr(name, 'dev_port')),
    driver: driver === null ? null : (driver.split('/').pop() ?? null),
    mac,
    // addr_assign_type 0 (NET_ADDR_PERM): the current MAC of a NIC on a bus
    // is its burned-in one; otherwise sysfs does not say what that is.
    permAddr: bus !== null && numberOrNull(attr(name, 'addr_assign_type')) === 0 ? mac : null,
  }
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

/** The half of a Link that netlink carries, the same in any netns. */
export function fromNetlink(l: IpLink): Omit<Link, 'bus' | 'devPort' | 'driver'> {
  return {
    ifindex: l.ifindex,
    name: l.ifname,
    altnames: l.altnames ?? [],
    mac: l.address ?? null,
    permAddr: l.permaddr ?? null,
    ifalias: l.ifalias ?? null,
    kind: l.linkinfo?.info_kind ?? null,
    up: (l.flags ?? []).includes('UP'),
    mtu: l.mtu,
  }
}

export const isLoopback = (l: IpLink) => l.link_type === 'loopback'

export class SysfsMismatchError extends Error {}

/** Every network device of the current netns except loopback. A device
 *  renamed between the netlink dump and the sysfs read (udev, another
 *  nicback) is simply read again; a device that sysfs shows with another
 *  ifindex means /sys belongs to another netns, which is an error. */
export function readLinks(): Link[] {
  for (let attempt = 1; attempt < 3; attempt++) {
    const links = readLinksOnce(false)
    if (links !== null) return links
  }
  return readLinksOnce(true)!
}

/** null when a device was renamed under us (retry), unless `lastTry`. */
function readLinksOnce(lastTry: boolean): Link[] | null {
  const raw = ipJson<IpLink[]>(['-details', 'link', 'show']).filter((l) => !isLoopback(l))
  const facts = raw.map((l) => sysfsFacts(l.ifname))
  if (!lastTry && facts.some((f) => f.ifindex === null)) return null
  return raw.map((l, i) => {
    const s = facts[i]!
    if (s.ifindex !== l.ifindex) {
      throw new SysfsMismatchError(
        `sysfs shows another network namespace than netlink (${l.ifname} has ifindex ${l.ifindex} in netlink, ` +
          `${s.ifindex ?? 'none'} in /sys): run nicback through "ip netns exec NS", which remounts /sys, not "nsenter --net"`,
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

/** The same devices read again, from sysfs alone: where each ifindex is now
 *  (name), and its MAC, MTU and admin state. What a restore reads back to
 *  confirm its work without another `ip` process. Devices no longer in this
 *  netns are left out; altnames are not re-read. */
export function refreshLinks(before: readonly Link[]): Link[] {
  const nameOf = new Map<number, string>()
  for (const name of readdirSync(SYS)) {
    const ifindex = numberOrNull(attr(name, 'ifindex'))
    if (ifindex !== null) nameOf.set(ifindex, name)
  }
  return before.flatMap((l) => {
    const name = nameOf.get(l.ifindex)
    if (name === undefined) return []
    const flags = Number.parseInt(attr(name, 'flags') ?? '', 16)
    return [{ ...l, name, mac: attr(name, 'address') ?? l.mac, mtu: numberOrNull(attr(name, 'mtu')) ?? l.mtu, up: Number.isNaN(flags) ? l.up : (flags & 1) === 1 }]
  })
}
