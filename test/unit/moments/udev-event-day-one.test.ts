// Day one at the udev event (moments/udev-event.ts): an add of a NIC with no
// record starts a run only when it came back (devN, or seen away at
// install); the leader's later rounds look for NICs written down as away
// only when one of them is on the host again.
import { describe, expect, it, vi } from 'vitest'
import { anyNicMayBeBack, needsNothing } from '../../../scripts/lib/moments/udev-event.js'
import { saveRegistry } from '../../../scripts/lib/state/registry.js'
import type { UnnamedNic } from '../../../scripts/lib/types.js'
import { reg, useTempStateDir } from '../helpers.js'

const onHost = new Set<string>()
vi.mock('../../../scripts/lib/facts/links.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../scripts/lib/facts/links.js')>()),
  // every device of the test is PCI slot 3, ifindex 3
  sysfsFacts: () => ({ ifindex: 3, bus: '0000:00:03.0', devPort: null, driver: 'e1000', mac: '52:54:00:00:00:03', permAddr: '52:54:00:00:00:03' }),
  busOnHost: (bus: string) => onHost.has(bus),
}))
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>()
  // /sys/class/net: no devN on this host
  return { ...fs, readdirSync: ((p: string, o?: unknown) => (p === '/sys/class/net' ? ['lo', 'eth0'] : fs.readdirSync(p, o as never))) as typeof fs.readdirSync }
})

const seen = (bus: string): UnnamedNic => ({ bus, devPort: null, permAddr: null, mac: null, seenAt: 't', netnsInode: 9, where: 'pid 1 (x)', insideName: 'net1' })
useTempStateDir()

describe('needsNothing for a NIC with no record', () => {
  it('devN, or seen away at install: a run; any other name: nothing (an admin may have named it)', () => {
    saveRegistry(reg())
    expect(needsNothing('dev3', 3)).toBe(false)
    expect(needsNothing('net1', 3)).toBe(true)
    saveRegistry({ ...reg(), unnamed: [seen('0000:00:03.0')] })
    expect(needsNothing('net1', 3)).toBe(false)
  })
})

describe('anyNicMayBeBack', () => {
  it('a NIC written down as away counts only once it is on the host', () => {
    saveRegistry({ ...reg(), unnamed: [seen('0000:00:07.0')] })
    expect(anyNicMayBeBack()).toBe(false)
    onHost.add('0000:00:07.0')
    expect(anyNicMayBeBack()).toBe(true)
  })
})
