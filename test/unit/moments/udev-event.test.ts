import fc from 'fast-check'
import { expect, test } from 'vitest'
import { parseDeparture } from '../../../scripts/lib/moments/udev-event.js'

test('a departure line of the udev front is read as its remove event would be', () => {
  expect(parseDeparture('eth3 8 /devices/pci0000:00/0000:00:07.0/net/eth3')).toEqual({ name: 'eth3', ifindex: 8, bus: '0000:00:07.0', devPort: null, permAddr: null, mac: null, via: 'udev' })
  expect(parseDeparture('eth3 - /devices/pci0000:00/0000:00:07.0/net/eth3')).toMatchObject({ name: 'eth3', ifindex: null })
})

test('malformed, forged or virtual departure lines are dropped with a reason, never thrown', () => {
  expect(parseDeparture('eth3 8')).toMatch(/malformed/)
  expect(parseDeparture('eth3 8 /devices/pci0000:00/0000:00:07.0/net/eth3 extra')).toMatch(/malformed/)
  expect(parseDeparture('eth3 x8 /devices/pci0000:00/0000:00:07.0/net/eth3')).toMatch(/not an ifindex/)
  expect(parseDeparture('a/b 8 /devices/pci0000:00/0000:00:07.0/net/x')).toMatch(/not a valid interface name/)
  expect(parseDeparture('veth1 8 /devices/virtual/net/veth1')).toMatch(/does not manage/)
})

test('fuzz: any line gives a departure or a reason', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (line) => {
      const d = parseDeparture(line)
      expect(typeof d === 'string' || (typeof d.name === 'string' && d.via === 'udev')).toBe(true)
    }),
    { numRuns: 3000 },
  )
})
