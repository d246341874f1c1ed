// Telling the network manager a NIC is home: a udev change event.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test, vi } from 'vitest'
import { log } from '../../../scripts/lib/system/log.js'
import { notifyNetworkManagers } from '../../../scripts/lib/apply/notify.js'

describe('telling the network manager', () => {
  test('a udev change event for the NIC, only when udevd runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nicback-notify-'))
    try {
      const calls: string[][] = []
      const runner = (cmd: string, args: string[]) => void calls.push([cmd, ...args])
      expect(notifyNetworkManagers('ens3', { control: join(dir, 'control'), runner })).toBe(false)
      expect(calls).toEqual([])
      writeFileSync(join(dir, 'control'), '')
      expect(notifyNetworkManagers('ens3', { control: join(dir, 'control'), runner })).toBe(true)
      expect(calls).toEqual([['udevadm', 'trigger', '--action=change', '--sysname-match=ens3', '--subsystem-match=net']])
      const failing = () => {
        throw new Error('udevadm: no')
      }
      expect(notifyNetworkManagers('ens3', { control: join(dir, 'control'), runner: failing })).toBe(false)
      // Issue 16: a NIC a new pod took right after it came home has left; no warning
      const warn = vi.spyOn(log, 'warn').mockImplementation(() => {})
      const info = vi.spyOn(log, 'info').mockImplementation(() => {})
      try {
        const gone = () => {
          throw Object.assign(new Error("ENOENT: no such file or directory, open '/sys/class/net/ens3/uevent'"), { code: 'ENOENT' })
        }
        expect(notifyNetworkManagers('ens3', { control: join(dir, 'control'), runner: gone })).toBe(false)
        expect(warn).not.toHaveBeenCalled()
        expect(info).toHaveBeenCalledWith('ens3 left the host again right after it came home: no network manager to tell', { nic: 'ens3' })
        expect(notifyNetworkManagers('ens3', { control: join(dir, 'control'), runner: failing })).toBe(false)
        expect(warn).toHaveBeenCalledTimes(1)
      } finally {
        warn.mockRestore()
        info.mockRestore()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
