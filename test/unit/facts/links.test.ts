// Devices as `ip -j -d link` and sysfs show them: the bus of a device path,
// links read in another netns, the same read blocking and not.
import { describe, expect, it, test } from 'vitest'
import { existsSync, readdirSync } from 'node:fs'
import { sameNic } from '../../../scripts/lib/facts/identity.js'
import { busFromDevicePath, busOnHost, linksFromIpJson, readLinks, readLinksAsync } from '../../../scripts/lib/facts/links.js'
import { identity as id } from '../helpers.js'

describe('busFromDevicePath', () => {
  it('knows a PCI NIC by its function, from sysfs or from a uevent DEVPATH', () => {
    expect(busFromDevicePath('/sys/devices/pci0000:00/0000:00:03.0/net/ens3')).toBe('0000:00:03.0')
    expect(busFromDevicePath('/devices/pci0000:00/0000:00:03.0/net/ens3')).toBe('0000:00:03.0')
    // realpath of /sys/class/net/X/device: no /net/X tail.
    expect(busFromDevicePath('/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.1')).toBe('0000:02:00.1')
    // Behind a bridge: the function itself, not the bridge.
    expect(busFromDevicePath('/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/net/enp2s0f0')).toBe('0000:02:00.0')
  })

  it('resolves a virtio NIC to its PCI parent', () => {
    expect(busFromDevicePath('/devices/pci0000:00/0000:00:04.0/virtio1/net/ens4')).toBe('0000:00:04.0')
    expect(busFromDevicePath('/sys/devices/pci0000:00/0000:00:04.0/virtio1/net/ens4')).toBe('0000:00:04.0')
    expect(busFromDevicePath('/sys/devices/pci0000:00/0000:00:04.0/virtio12')).toBe('0000:00:04.0')
  })

  it('has no bus for a virtual device', () => {
    expect(busFromDevicePath('/devices/virtual/net/veth0')).toBeNull()
    expect(busFromDevicePath('/sys/devices/virtual/net/dummy0')).toBeNull()
    expect(busFromDevicePath('/devices/virtual')).toBeNull()
    expect(busFromDevicePath('/something/else')).toBeNull()
  })

  it('knows a NIC on another bus by its device path', () => {
    expect(busFromDevicePath('/sys/devices/platform/soc/fe300000.ethernet/net/eth0')).toBe('platform/soc/fe300000.ethernet')
  })

  it('tells apart two USB NICs on one USB controller (by port, not by the controller)', () => {
    const a = busFromDevicePath('/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/net/usb0')
    const b = busFromDevicePath('/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/net/usb1')
    expect(a).toBe('pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0')
    expect(b).toBe('pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0')
    expect(sameNic(id({ bus: a }), id({ bus: b }))).toBe(false)
  })
})

describe('linksFromIpJson', () => {
  test('links from ip -json -details run in another netns: bus from the parent device', () => {
    const raw = [
      { ifindex: 1, ifname: 'lo', mtu: 65536, link_type: 'loopback', address: '00:00:00:00:00:00' },
      { ifindex: 7, ifname: 'eth0', mtu: 9000, flags: ['BROADCAST', 'UP'], address: '02:00:00:00:00:07', permaddr: '52:54:00:00:00:11', parentbus: 'virtio', parentdev: 'virtio1', altnames: ['enp0s4'] },
      { ifindex: 8, ifname: 'veth0', mtu: 1500, flags: ['BROADCAST'], address: '02:00:00:00:00:08', linkinfo: { info_kind: 'veth' } },
    ]
    const links = linksFromIpJson(raw, (bus, dev) => (bus === 'virtio' && dev === 'virtio1' ? '0000:00:04.0' : null))
    expect(links).toEqual([
      { ifindex: 7, name: 'eth0', altnames: ['enp0s4'], mac: '02:00:00:00:00:07', permAddr: '52:54:00:00:00:11', bus: '0000:00:04.0', devPort: null, driver: null, ifalias: null, kind: null, up: true, mtu: 9000 },
      { ifindex: 8, name: 'veth0', altnames: [], mac: '02:00:00:00:00:08', permAddr: null, bus: null, devPort: null, driver: null, ifalias: null, kind: 'veth', up: false, mtu: 1500 },
    ])
  })
})

describe('readLinksAsync', () => {
  test("reads what readLinks reads (this machine's own devices, read only)", async () => {
    const blocking = readLinks()
    expect(blocking.length).toBeGreaterThan(0)
    expect(await readLinksAsync()).toEqual(blocking)
  })

  test('a read stopped by its signal ends with an AbortError', async () => {
    const ctl = new AbortController()
    const read = readLinksAsync(ctl.signal)
    ctl.abort()
    await expect(read).rejects.toMatchObject({ name: 'AbortError' })
  })
})

describe('busOnHost', () => {
  it("a bus position with a network device in this namespace (read from this machine's sysfs, never changed); none: false", () => {
    expect(busOnHost('0000:ff:1f.7')).toBe(false)
    expect(busOnHost('no/such/device')).toBe(false)
    const withNet = readdirSync('/sys/bus/pci/devices').filter((d) => existsSync(`/sys/bus/pci/devices/${d}/net`) && readdirSync(`/sys/bus/pci/devices/${d}/net`).length > 0)
    for (const d of withNet) expect(busOnHost(d), d).toBe(true)
  })
})
