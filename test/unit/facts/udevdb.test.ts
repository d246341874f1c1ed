// A NIC's return time as udev saw it (facts/udevdb.ts): USEC_INITIALIZED from
// an event's environment or udev's database, checked before use.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { dbUsec, eventUsec, initializedUsec, monotonicUsec, parseUsec } from '../../../scripts/lib/facts/udevdb.js'

describe('parseUsec', () => {
  const now = 5_000_000n
  it('takes 1-20 digits, not 0, not later than now', () => {
    expect(parseUsec('4999999', now)).toBe(4_999_999n)
    expect(parseUsec('5000000', now)).toBe(now)
    for (const bad of [undefined, '', '0', '5000001', '-1', '1e6', ' 12', '12 ', '0x10', '１２', '123456789012345678901', '1\n2']) expect(parseUsec(bad, now)).toBeNull()
  })
})

describe('eventUsec', () => {
  it('reads USEC_INITIALIZED on the same clock as process.hrtime', () => {
    const t = monotonicUsec() - 1000n
    expect(eventUsec({ USEC_INITIALIZED: String(t) })).toBe(t)
    expect(eventUsec({ USEC_INITIALIZED: String(monotonicUsec() + 60_000_000n) })).toBeNull()
    expect(eventUsec({})).toBeNull()
  })
})

describe("udev's database", () => {
  const dir = mkdtempSync(join(tmpdir(), 'nicback-udevdb-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const now = 10_000_000n

  it('the I: line of n<ifindex>', () => {
    writeFileSync(join(dir, 'n7'), 'I:1234567\nE:ID_NET_NAME_PATH=enp0s7\nG:systemd\n')
    expect(initializedUsec(7, dir, now)).toBe(1_234_567n)
    expect(dbUsec('E:X=1\nI:42\n', now)).toBe(42n)
  })

  it('none: no file, no I: line, a bad value, a bad ifindex', () => {
    expect(initializedUsec(8, dir, now)).toBeNull()
    writeFileSync(join(dir, 'n9'), 'E:I:55\n')
    expect(initializedUsec(9, dir, now)).toBeNull()
    writeFileSync(join(dir, 'n10'), 'I:99999999999\n')
    expect(initializedUsec(10, dir, now)).toBeNull()
    for (const i of [0, -1, 1.5, Number.NaN]) expect(initializedUsec(i, dir, now)).toBeNull()
  })
})
