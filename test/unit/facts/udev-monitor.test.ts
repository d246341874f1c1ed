import fc from 'fast-check'
import { expect, test } from 'vitest'
import { MonitorStream, parseMonitorBlock } from '../../../scripts/lib/facts/udev-monitor.js'

const BANNER = 'monitor will print the received events for:\nUDEV - the event which udev sends out after rule processing\n\n'
const ev = (action: string, name: string, i: number) =>
  `UDEV  [${i}.123456] ${action.padEnd(8)} /devices/pci0000:00/0000:00:0${i}.0/net/${name} (net)\nACTION=${action}\nDEVPATH=/devices/pci0000:00/0000:00:0${i}.0/net/${name}\nSUBSYSTEM=net\nINTERFACE=${name}\nIFINDEX=${i}\nID_NET_NAME_PATH=enp0s${i}\nUSEC_INITIALIZED=${i}000\nSEQNUM=${i}\n\n`

test('udevadm monitor --property output: the banner is skipped, each block is one event with the keys nicback reads', () => {
  const items = new MonitorStream().push(BANNER + ev('add', 'dev7', 3) + ev('remove', 'eth0', 4))
  expect(items).toEqual([
    { event: { ACTION: 'add', DEVPATH: '/devices/pci0000:00/0000:00:03.0/net/dev7', SUBSYSTEM: 'net', INTERFACE: 'dev7', IFINDEX: '3', USEC_INITIALIZED: '3000', SEQNUM: '3' } },
    { event: { ACTION: 'remove', DEVPATH: '/devices/pci0000:00/0000:00:04.0/net/eth0', SUBSYSTEM: 'net', INTERFACE: 'eth0', IFINDEX: '4', USEC_INITIALIZED: '4000', SEQNUM: '4' } },
  ])
})

test('a block that says a key twice, or whose header disagrees, is dropped', () => {
  expect(parseMonitorBlock(ev('add', 'dev7', 3).replace('SEQNUM=', 'INTERFACE=eth0\nSEQNUM=').trim().split('\n'))).toEqual({ dropped: 'INTERFACE given twice' })
  expect(parseMonitorBlock(ev('add', 'dev7', 3).replace('ACTION=add', 'ACTION=remove').trim().split('\n'))).toEqual({ dropped: 'the header does not match the properties' })
  expect(parseMonitorBlock(ev('add', 'dev7', 3).replace('SEQNUM=3', 'garbage').trim().split('\n'))).toEqual({ dropped: 'a property line without "="' })
})

test('property: however the stream is cut into chunks, the same events come out', () => {
  const text = BANNER + ev('add', 'dev7', 3) + ev('move', 'eth1', 5) + ev('remove', 'eth2', 6)
  const whole = new MonitorStream().push(text)
  fc.assert(
    fc.property(fc.array(fc.nat(text.length), { maxLength: 12 }), (cuts) => {
      const points = [...new Set(cuts)].sort((a, b) => a - b)
      const s = new MonitorStream()
      const out = []
      let at = 0
      for (const p of [...points, text.length]) {
        out.push(...s.push(text.slice(at, p)))
        at = p
      }
      expect(out).toEqual(whole)
    }),
  )
})

test('fuzz: any bytes never throw and never yield an event whose header and properties disagree', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom('\n', '\n\n', 'ACTION=add\n', 'UDEV  [1.0] add /d (net)\n', 'DEVPATH=/d\n', 'SUBSYSTEM=net\n')), { maxLength: 40 }), (parts) => {
      const s = new MonitorStream()
      for (const p of parts) {
        for (const item of s.push(p)) {
          if ('event' in item) expect(item.event.SUBSYSTEM).toBe('net')
        }
      }
    }),
    { numRuns: 2000 },
  )
})

test("a move keeps DEVPATH_OLD: the agent's only way to see a rename on the host (sriov-cni v2's enp1s0v0 -> temp_3 hand-over)", () => {
  const dp = '/devices/pci0000:00/0000:00:02.0/0000:01:10.0/net'
  const block = [`UDEV  [12.500000] move     ${dp}/temp_3 (net)`, 'ACTION=move', `DEVPATH=${dp}/temp_3`, `DEVPATH_OLD=${dp}/enp1s0v0`, 'SUBSYSTEM=net', 'INTERFACE=temp_3', 'IFINDEX=3', 'SEQNUM=9']
  expect(parseMonitorBlock(block)).toEqual({ event: { ACTION: 'move', DEVPATH: `${dp}/temp_3`, DEVPATH_OLD: `${dp}/enp1s0v0`, SUBSYSTEM: 'net', INTERFACE: 'temp_3', IFINDEX: '3', SEQNUM: '9' } })
})
