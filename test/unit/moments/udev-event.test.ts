import fc from 'fast-check'
import { expect, test, vi } from 'vitest'
import { nicLeaves } from '../../../scripts/lib/moments/leave.js'
import { dispatchUdevEvent, parseDeparture, parseRename, parseUdevEvent } from '../../../scripts/lib/moments/udev-event.js'

vi.mock('../../../scripts/lib/moments/leave.js', async (original) => ({
  ...(await original<typeof import('../../../scripts/lib/moments/leave.js')>()),
  nicLeaves: vi.fn(() => ({ changed: true, recordedName: 'eth3', message: '' })),
}))

const at = (line: string, atMs = 1_000_000) => ({ line, atMs })

test('a departure line of the udev front is read as its remove event would be', () => {
  expect(parseDeparture(at('eth3 8 /devices/pci0000:00/0000:00:07.0/net/eth3'))).toEqual({ name: 'eth3', ifindex: 8, bus: '0000:00:07.0', devPort: null, permAddr: null, mac: null, via: 'udev' })
  expect(parseDeparture(at('eth3 - /devices/pci0000:00/0000:00:07.0/net/eth3'))).toMatchObject({ name: 'eth3', ifindex: null })
})

test('malformed, forged or virtual departure lines are dropped with a reason, never thrown', () => {
  expect(parseDeparture(at('eth3 8'))).toMatch(/malformed/)
  expect(parseDeparture(at('eth3 8 /devices/pci0000:00/0000:00:07.0/net/eth3 extra'))).toMatch(/malformed/)
  expect(parseDeparture(at('eth3 x8 /devices/pci0000:00/0000:00:07.0/net/eth3'))).toMatch(/not an ifindex/)
  expect(parseDeparture(at('a/b 8 /devices/pci0000:00/0000:00:07.0/net/x'))).toMatch(/not a valid interface name/)
  expect(parseDeparture(at('veth1 8 /devices/virtual/net/veth1'))).toMatch(/does not manage/)
})

test('fuzz: any line gives a departure or a reason', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (line) => {
      const d = parseDeparture(at(line))
      expect(typeof d === 'string' || (typeof d.name === 'string' && d.via === 'udev')).toBe(true)
    }),
    { numRuns: 3000 },
  )
})

const VF = '/devices/pci0000:00/0000:00:10.0/0000:01:10.0/net'

test("a move event's name before comes from DEVPATH_OLD, only when it is a valid name of the same device", () => {
  const move = (old: string) => parseUdevEvent({ ACTION: 'move', INTERFACE: 'temp_3', IFINDEX: '3', DEVPATH: `${VF}/temp_3`, DEVPATH_OLD: old })
  expect(move(`${VF}/enp1s0v0`)).toMatchObject({ event: { action: 'move', name: 'temp_3', from: 'enp1s0v0', bus: '0000:01:10.0' } })
  // another device's path, or a name the kernel would refuse: not a rename of this NIC
  expect(move('/devices/pci0000:00/0000:00:03.0/net/ens3')).toMatchObject({ event: { from: null } })
  expect(move(`${VF}/a b`)).toMatchObject({ event: { from: null } })
  expect(parseUdevEvent({ ACTION: 'remove', INTERFACE: 'temp_3', IFINDEX: '3', DEVPATH: `${VF}/temp_3`, DEVPATH_OLD: `${VF}/enp1s0v0` })).toMatchObject({ event: { from: null } })
})

test('sriov-cni v2: a departure noted 20 ms after the front noted the rename to temp_3 leaves as enp1s0v0', () => {
  const rename = parseRename(at(`enp1s0v0 temp_3 3 ${VF}/temp_3`, 1_000_000))
  expect(rename).toEqual({ from: 'enp1s0v0', to: 'temp_3', ifindex: 3, bus: '0000:01:10.0', atMs: 1_000_000 })
  const d = parseDeparture(at(`temp_3 3 ${VF}/temp_3`, 1_000_020), [rename as Exclude<typeof rename, string | null>])
  expect(d).toMatchObject({ name: 'temp_3', handOver: [{ from: 'enp1s0v0', to: 'temp_3', msBefore: 20 }] })
})

test('malformed or forged rename notes are dropped with a reason, never thrown', () => {
  expect(parseRename(at('enp1s0v0 temp_3 3'))).toMatch(/malformed/)
  expect(parseRename(at(` temp_3 3 ${VF}/temp_3`))).toMatch(/malformed/)
  expect(parseRename(at('a temp_3 3 /devices/virtual/net/temp_3'))).toMatch(/malformed/)
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (line) => {
      const r = parseRename(at(line))
      expect(r === null || typeof r === 'string' || (typeof r.from === 'string' && typeof r.to === 'string')).toBe(true)
    }),
    { numRuns: 2000 },
  )
})

test('a name that is not UTF-8 (decoded to U+FFFD, maybe past 15 bytes) is resolved by IFINDEX, never judged by its text; without IFINDEX it is ignored, saying why', () => {
  const lost = `q${'\uFFFD'.repeat(13)}z`
  const devpath = `/devices/pci0000:00/0000:00:03.0/net/${lost}`
  expect(parseUdevEvent({ ACTION: 'add', INTERFACE: lost, IFINDEX: '7', DEVPATH: devpath })).toEqual({ event: { action: 'add', name: lost, ifindex: 7, bus: '0000:00:03.0', from: null } })
  expect(parseUdevEvent({ ACTION: 'add', INTERFACE: lost, DEVPATH: devpath })).toEqual({ ignore: expect.stringMatching(/not UTF-8, without an IFINDEX/) })
  // A move from such a name: no hand-over step can start from it, and its
  // note is dropped without a warning (udevd itself renames such a name).
  expect(parseRename(at(`q\uFFFDz q___z 2 /devices/pci0000:00/0000:00:04.0/virtio0/net/q___z`))).toBeNull()
  expect(parseUdevEvent({ ACTION: 'move', INTERFACE: 'eth0', IFINDEX: '7', DEVPATH: '/devices/pci0000:00/0000:00:03.0/net/eth0', DEVPATH_OLD: '/devices/pci0000:00/0000:00:03.0/net/q\uFFFDz' })).toMatchObject({ event: { from: null } })
})

test('the dispatch the udev rule and the agent share: a remove is recorded with the renames before it, an add of a NIC gone from the host wants no run', () => {
  const bus = '0000:00:07.0'
  const renames = vi.fn(() => [{ from: 'eth3', to: 'tmp3', ifindex: 8, bus, atMs: 999_000 }])
  expect(dispatchUdevEvent({ action: 'remove', name: 'tmp3', ifindex: 8, bus, from: null }, 5, renames, 1_000_000)).toBe(false)
  expect(renames).toHaveBeenCalledTimes(1)
  expect(vi.mocked(nicLeaves)).toHaveBeenCalledWith(expect.objectContaining({ name: 'tmp3', ifindex: 8, bus, via: 'udev', handOver: [expect.objectContaining({ from: 'eth3' })] }), 5)
  // An add: the renames are not asked for, nothing is recorded.
  vi.mocked(nicLeaves).mockClear()
  const none = vi.fn(() => [])
  expect(dispatchUdevEvent({ action: 'add', name: 'nicback-no-such-nic0', ifindex: null, bus, from: null }, 5, none)).toBe(false)
  expect(dispatchUdevEvent({ action: 'move', name: 'nicback-no-such-nic0', ifindex: null, bus, from: null }, 5, none, undefined, true)).toBe(false)
  expect(none).not.toHaveBeenCalled()
  expect(vi.mocked(nicLeaves)).not.toHaveBeenCalled()
})

test('not run by udev (no ACTION, INTERFACE or DEVPATH) is said by a flag, which the udev command turns into bad usage; an event to ignore has none', () => {
  expect(parseUdevEvent({})).toEqual({ ignore: 'meant to be run by udev: ACTION, INTERFACE and DEVPATH must be set', usage: true })
  expect(parseUdevEvent({ ACTION: 'change', INTERFACE: 'eth0', DEVPATH: '/devices/pci0000:00/0000:00:03.0/net/eth0' })).toEqual({ ignore: null })
})
