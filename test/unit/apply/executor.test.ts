// The executor's all-or-nothing names phase and independent settings phase,
// with a fake `ip -batch` that fails where told (the real one is exercised by
// the netns and vm tiers).
import { describe, expect, it } from 'vitest'
import { applyNames, applyPlan, applySettings, renameGroups, type Batch, type BatchResult } from '../../../scripts/lib/apply/executor.js'
import type { Step } from '../../../scripts/lib/plan/planner.js'

/** A fake batch: records every call; fails the given 1-based lines of the first call. */
function fakeBatch(failFirstCallAt: number[] = [], stderr = 'RTNETLINK answers: File exists') {
  const calls: { cmds: string[][]; force: boolean }[] = []
  const batch: Batch = (cmds, force): BatchResult => {
    calls.push({ cmds, force })
    const failed = calls.length === 1 ? failFirstCallAt.filter((n) => n <= cmds.length) : []
    return failed.length === 0 ? { ok: true, failedLines: [], stderr: '' } : { ok: false, failedLines: failed.slice(0, force ? undefined : 1), stderr: `${stderr}\nCommand failed -:${failed[0]}\n` }
  }
  return { batch, calls }
}
const noCheck = () => null

const cycle: Step[] = [
  { op: 'rename', ifindex: 3, from: 'ens4', to: 'nbtmp3', temporary: true },
  { op: 'rename', ifindex: 4, from: 'ens5', to: 'ens4', temporary: false },
  { op: 'altname-del', ifindex: 5, dev: 'ens3', altname: 'ens5' },
  { op: 'rename', ifindex: 5, from: 'ens3', to: 'ens5', temporary: false },
  { op: 'rename', ifindex: 3, from: 'nbtmp3', to: 'ens3', temporary: false },
]

describe('applyNames', () => {
  it('runs every step in one batch, in order, stopping at the first failure', () => {
    const { batch, calls } = fakeBatch()
    expect(applyNames(cycle, batch, noCheck)).toEqual({ done: cycle })
    expect(calls).toEqual([{ force: false, cmds: [
      ['link', 'set', 'dev', 'ens4', 'name', 'nbtmp3'],
      ['link', 'set', 'dev', 'ens5', 'name', 'ens4'],
      ['link', 'property', 'del', 'dev', 'ens3', 'altname', 'ens5'],
      ['link', 'set', 'dev', 'ens3', 'name', 'ens5'],
      ['link', 'set', 'dev', 'nbtmp3', 'name', 'ens3'],
    ] }])
  })

  it('undoes, in reverse, exactly the steps before the one that failed', () => {
    const { batch, calls } = fakeBatch([4])
    const r = applyNames(cycle, batch, noCheck)
    expect(r.done).toEqual([])
    expect(r.failed).toMatchObject({ step: cycle[3], undone: true, undoErrors: [] })
    expect(r.failed!.message).toBe('failed to rename "ens3" to "ens5": RTNETLINK answers: File exists')
    expect(calls[1]).toEqual({ force: true, cmds: [
      ['link', 'property', 'add', 'dev', 'ens3', 'altname', 'ens5'],
      ['link', 'set', 'dev', 'ens4', 'name', 'ens5'],
      ['link', 'set', 'dev', 'nbtmp3', 'name', 'ens4'],
    ] })
  })

  it('a failure of the first step leaves nothing to undo', () => {
    const { batch, calls } = fakeBatch([1])
    const r = applyNames(cycle, batch, noCheck)
    expect(r.failed).toMatchObject({ step: cycle[0], undone: false })
    expect(calls).toHaveLength(2)
    expect(calls[1]!.cmds).toEqual([])
  })

  it('a device that moved since planning stops it before anything runs', () => {
    const { batch, calls } = fakeBatch()
    const r = applyNames(cycle, batch, () => ({ at: 1, message: '"ens5" is gone' }))
    expect(r.failed).toMatchObject({ step: cycle[1], undone: false })
    expect(r.failed!.message).toContain('"ens5" is gone')
    expect(calls).toEqual([])
  })
})

describe('applySettings', () => {
  const settings: Step[] = [
    { op: 'mac', ifindex: 3, dev: 'ens3', mac: '52:54:00:00:00:10', was: '02:00:00:00:00:99' },
    { op: 'mtu', ifindex: 3, dev: 'ens3', mtu: 9000, was: 1500 },
    { op: 'up', ifindex: 3, dev: 'ens3' },
  ]
  it('a failed setting is reported and the ones after it still run', () => {
    const { batch, calls } = fakeBatch([2], 'Error: mtu greater than device maximum.')
    const errors = applySettings(settings, batch, () => {})
    expect(errors).toEqual(['failed to set MTU of "ens3" to 9000 (was 1500): Error: mtu greater than device maximum.'])
    expect(calls.map((c) => c.cmds.length)).toEqual([3, 1])
    expect(calls[1]!.cmds).toEqual([['link', 'set', 'dev', 'ens3', 'up']])
  })
  it('a device that is gone is reported, the others run', () => {
    const { batch, calls } = fakeBatch()
    const errors = applySettings(settings, batch, (s) => {
      if (s.op === 'mac') throw new Error('"ens3" is gone')
    })
    expect(errors).toEqual(['failed to set MAC of "ens3" back to 52:54:00:00:00:10 (was 02:00:00:00:00:99): "ens3" is gone'])
    expect(calls[0]!.cmds.map((c) => c.at(-1))).toEqual(['9000', 'up'])
  })
})

describe('applyPlan: renames and settings in one batch', () => {
  const names: Step[] = [
    { op: 'altname-del', ifindex: 3, dev: 'dev3', altname: 'ens3' },
    { op: 'rename', ifindex: 3, from: 'dev3', to: 'ens3', temporary: false },
  ]
  const settings: Step[] = [
    { op: 'mtu', ifindex: 3, dev: 'ens3', mtu: 9000, was: 1500 },
    { op: 'up', ifindex: 3, dev: 'ens3' },
  ]
  it('one process when everything works', () => {
    const { batch, calls } = fakeBatch()
    expect(applyPlan({ names, settings }, batch, noCheck)).toEqual({ names: { done: names }, settingErrors: [] })
    expect(calls).toHaveLength(1)
    expect(calls[0]!.cmds).toHaveLength(4)
  })
  it('a failed rename is undone and no setting runs', () => {
    const { batch, calls } = fakeBatch([2])
    const r = applyPlan({ names, settings }, batch, noCheck)
    expect(r.names.failed).toMatchObject({ step: names[1], undone: true })
    expect(r.settingErrors).toEqual([])
    expect(calls[1]).toEqual({ force: true, cmds: [['link', 'property', 'add', 'dev', 'dev3', 'altname', 'ens3']] })
    expect(calls).toHaveLength(2)
  })
  it('a failed setting keeps the renames and runs the settings after it', () => {
    const { batch, calls } = fakeBatch([3], 'Error: mtu greater than device maximum.')
    const r = applyPlan({ names, settings }, batch, noCheck)
    expect(r.names).toEqual({ done: names })
    expect(r.settingErrors.map((e) => e.message)).toEqual(['failed to set MTU of "ens3" to 9000 (was 1500): Error: mtu greater than device maximum.'])
    expect(calls[1]!.cmds).toEqual([['link', 'set', 'dev', 'ens3', 'up']])
  })
  it('a settings-only device that is gone is reported; the renames still run', () => {
    const { batch, calls } = fakeBatch()
    const other: Step = { op: 'up', ifindex: 9, dev: 'ens9' }
    const r = applyPlan({ names, settings: [...settings, other] }, batch, (steps) => {
      const i = steps.indexOf(other)
      return i >= 0 ? { at: i, message: '"ens9" is gone' } : null
    })
    expect(r.settingErrors.map((e) => e.message)).toEqual(['failed to set "ens9" up: "ens9" is gone'])
    expect(calls[0]!.cmds).toHaveLength(4)
  })
})

describe('independent groups of renames (issue 10) and a failed undo (issue 8, class 7)', () => {
  // Two independent fixes: a swap of 3 and 4 (through nbtmp3), and dev9 -> eth9.
  const swap: Step[] = [
    { op: 'rename', ifindex: 3, from: 'eth0', to: 'nbtmp3', temporary: true },
    { op: 'rename', ifindex: 4, from: 'eth1', to: 'eth0', temporary: false },
    { op: 'rename', ifindex: 3, from: 'nbtmp3', to: 'eth1', temporary: false },
  ]
  const lone: Step = { op: 'rename', ifindex: 9, from: 'dev9', to: 'eth9', temporary: false }

  it('renameGroups: devices waiting on each other are one group, others their own', () => {
    const g = renameGroups([...swap, lone])
    expect(g(swap[0]!)).toBe(g(swap[1]!))
    expect(g(swap[2]!)).toBe(g(swap[0]!))
    expect(g(lone)).not.toBe(g(swap[0]!))
    expect(g({ op: 'up', ifindex: 4, dev: 'eth0' })).toBe(g(swap[0]!))
  })

  it('a failure in one group undoes that group only; the other group is done, and its settings run', () => {
    const { batch, calls } = fakeBatch([3]) // the lone rename (line 3 of [swap0, lone... ] order below) fails
    const names = [swap[0]!, swap[1]!, lone, swap[2]!]
    const settings: Step[] = [{ op: 'up', ifindex: 4, dev: 'eth0' }, { op: 'up', ifindex: 9, dev: 'eth9' }]
    const r = applyPlan({ names, settings }, batch, noCheck)
    expect(r.names.failed).toMatchObject({ step: lone, undone: false })
    expect(r.names.done).toEqual([swap[0], swap[1], swap[2]])
    // Nothing of dev9's group to undo (calls[1] is empty); then the rest of
    // the swap and its setting, not dev9's.
    expect(calls[1]!.cmds).toEqual([])
    expect(calls[2]!.cmds).toEqual([
      ['link', 'set', 'dev', 'nbtmp3', 'name', 'eth1'],
      ['link', 'set', 'dev', 'eth0', 'up'],
    ])
  })

  it('an undo that fails says exactly which NIC is left where', () => {
    // The third rename fails, and so does the undo of the first (its old
    // name was taken meanwhile): eth0's NIC is left as nbtmp3.
    const calls: string[][][] = []
    const batch: Batch = (cmds, force) => {
      calls.push(cmds)
      if (calls.length === 1) return { ok: false, failedLines: [3], stderr: 'RTNETLINK answers: File exists\nCommand failed -:3\n' }
      return force ? { ok: false, failedLines: [2], stderr: 'RTNETLINK answers: Device busy\nCommand failed -:2\n' } : { ok: true, failedLines: [], stderr: '' }
    }
    const readBack = () => new Map([[3, 'nbtmp3'], [4, 'eth1']])
    const r = applyNames(swap, batch, noCheck, readBack)
    expect(r.failed!.undoErrors).toEqual(['undo of "rename "eth0" to "nbtmp3" (temporary, to break a cycle)" failed: RTNETLINK answers: Device busy'])
    expect(r.failed!.left).toEqual(['eth0 (ifindex 3) is left as nbtmp3'])
  })

  // Seen in the VM (6.1, host-device's crash): udevd gave the returned VF its
  // altname back (its move into devN) between nicback's drop and rename.
  it('putting back an altname that is back already is an undo done (EEXIST), so the run may plan again', () => {
    const steps: Step[] = [
      { op: 'altname-del', ifindex: 9, dev: 'dev9', altname: 'enp1s0v4' },
      { op: 'rename', ifindex: 9, from: 'dev9', to: 'enp1s0v4', temporary: false },
    ]
    const batch: Batch = (_cmds, force) => ({ ok: false, failedLines: force ? [1] : [2], stderr: `RTNETLINK answers: File exists\nCommand failed -:${force ? 1 : 2}\n` })
    const back = applyNames(steps, batch, noCheck, () => new Map([[9, 'dev9']]), () => ['enp1s0v4'])
    expect(back.failed).toMatchObject({ step: steps[1], undone: true, undoErrors: [], left: [] })
    // not back: the undo did fail
    const gone = applyNames(steps, batch, noCheck, () => new Map([[9, 'dev9']]), () => [])
    expect(gone.failed!.undoErrors).toEqual(['undo of "drop altname "enp1s0v4" of "dev9"" failed: RTNETLINK answers: File exists'])
  })
})
