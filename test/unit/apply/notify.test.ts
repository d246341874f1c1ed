// Telling the network manager a NIC is home: a udev change event.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
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
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
