// Telling the network manager a NIC is home: "change" written to the NIC's
// uevent file (a directory tree standing in for /sys/class/net).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { notifyNetworkManagers, RESTORED_ARG } from '../../../scripts/lib/apply/notify.js'
import { log } from '../../../scripts/lib/system/log.js'

describe('telling the network manager', () => {
  let dir: string
  let opts: { control: string; sysClassNet: string }
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nicback-notify-'))
    opts = { control: join(dir, 'control'), sysClassNet: join(dir, 'net') }
    mkdirSync(join(dir, 'net', 'ens3'), { recursive: true })
    writeFileSync(join(dir, 'net', 'ens3', 'uevent'), '')
  })
  afterEach(() => {
    vi.restoreAllMocks()
    rmSync(dir, { recursive: true, force: true })
  })

  test('a udev change event for the NIC, only when udevd runs', () => {
    expect(notifyNetworkManagers('ens3', opts)).toBe(false)
    expect(readFileSync(join(dir, 'net', 'ens3', 'uevent'), 'utf8')).toBe('')
    writeFileSync(opts.control, '')
    expect(notifyNetworkManagers('ens3', opts)).toBe(true)
    // a synthetic uevent: action, UUID, the argument the rule matches on
    expect(readFileSync(join(dir, 'net', 'ens3', 'uevent'), 'utf8')).toMatch(/^change [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12} NICBACK=restored$/)
  })

  test("the rule applies sysctl.d's settings for the home name on that event, and only on it", () => {
    const rules = readFileSync(fileURLToPath(new URL('../../../udev/81-nicback.rules', import.meta.url)), 'utf8')
    const line = rules.split('\n').find((l) => l.includes('SYNTH_ARG_NICBACK'))
    expect(line).toBeDefined()
    expect(line).toContain('ACTION=="change"')
    expect(line).toContain(`ENV{SYNTH_ARG_NICBACK}=="${RESTORED_ARG.split('=')[1]}"`)
    for (const p of ['ipv4/conf', 'ipv4/neigh', 'ipv6/conf', 'ipv6/neigh']) expect(line).toContain(`--prefix=/net/${p}/$name`)
    // before the line that ends the rule for every action but add, move, remove
    expect(rules.indexOf(line!)).toBeLessThan(rules.indexOf('ACTION!="add|move|remove"'))
  })

  // Issue 16: a NIC a new pod took right after it came home has left.
  test('a NIC gone from the host since (ENOENT) is said at info, not warned about; no file is created', () => {
    writeFileSync(opts.control, '')
    const warn = vi.spyOn(log, 'warn').mockImplementation(() => {})
    const info = vi.spyOn(log, 'info').mockImplementation(() => {})
    expect(notifyNetworkManagers('ens4', opts)).toBe(false)
    expect(warn).not.toHaveBeenCalled()
    expect(info).toHaveBeenCalledWith('ens4 left the host again right after it came home: no network manager to tell', { nic: 'ens4' })
    expect(() => readFileSync(join(dir, 'net', 'ens4', 'uevent'))).toThrow()
  })

  test('any other failure is a warning that names the NIC and the cause', () => {
    writeFileSync(opts.control, '')
    rmSync(join(dir, 'net', 'ens3', 'uevent'))
    mkdirSync(join(dir, 'net', 'ens3', 'uevent')) // EISDIR
    const warn = vi.spyOn(log, 'warn').mockImplementation(() => {})
    expect(notifyNetworkManagers('ens3', opts)).toBe(false)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0]![1]).toMatchObject({ nic: 'ens3' })
  })
})
