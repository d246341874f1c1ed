// The executor on the in-memory kernel (test/unit/fake-kernel.ts): renames
// all or nothing per group, each group rolled back by its own journal;
// settings each on its own; the one MAC path with its EBUSY fallback. The
// real `ip` is exercised by the netns and vm tiers.
import { describe, expect, it } from 'vitest'
import { applyPlan, LATE_ALTNAME_TRIES, renameGroups, setMac } from '../../../scripts/lib/apply/executor.js'
import { Journal } from '../../../scripts/lib/apply/journal.js'
import type { Step } from '../../../scripts/lib/plan/planner.js'
import { FakeKernel } from '../fake-kernel.js'

/** Matches the command that does `what` to device `dev` (to `value`). */
const is = (what: string, dev: string, value?: string) => (cmd: string[]) => cmd[cmd.indexOf('dev') + 1] === dev && cmd.includes(what) && (value === undefined || cmd.at(-1) === value)
const namesOnly = (names: Step[]) => ({ names, settings: [] })

// ens4/ens5/ens3 back under each other's names, ens3 holding ens5 as an altname.
const cycle: Step[] = [
  { op: 'rename', ifindex: 3, from: 'ens4', to: 'nbtmp3', temporary: true },
  { op: 'rename', ifindex: 4, from: 'ens5', to: 'ens4', temporary: false },
  { op: 'altname-del', ifindex: 5, dev: 'ens3', altname: 'ens5x' },
  { op: 'rename', ifindex: 5, from: 'ens3', to: 'ens5', temporary: false },
  { op: 'rename', ifindex: 3, from: 'nbtmp3', to: 'ens3', temporary: false },
]
const cycled = () =>
  new FakeKernel([
    { ifindex: 3, name: 'ens4' },
    { ifindex: 4, name: 'ens5' },
    { ifindex: 5, name: 'ens3', altnames: ['ens5x'] },
  ])

describe('applyPlan: the names', () => {
  it('runs every step in one batch, in order', () => {
    const k = cycled()
    expect(applyPlan(namesOnly(cycle), k)).toEqual({ names: { done: cycle }, settingErrors: [] })
    expect(k.calls).toEqual([
      {
        ns: '',
        force: false,
        cmds: [
          ['link', 'set', 'dev', 'ens4', 'name', 'nbtmp3'],
          ['link', 'set', 'dev', 'ens5', 'name', 'ens4'],
          ['link', 'property', 'del', 'dev', 'ens3', 'altname', 'ens5x'],
          ['link', 'set', 'dev', 'ens3', 'name', 'ens5'],
          ['link', 'set', 'dev', 'nbtmp3', 'name', 'ens3'],
        ],
      },
    ])
    expect(k.where()).toEqual({ 3: 'ens3', 4: 'ens4', 5: 'ens5' })
  })

  it('undoes, in reverse, exactly the steps before the one that failed: every device is back as it was', () => {
    const k = cycled()
    k.opts.failures = [{ match: is('name', 'ens3', 'ens5'), errno: 'EEXIST' }]
    const r = applyPlan(namesOnly(cycle), k).names
    expect(r.done).toEqual([])
    expect(r.failed).toMatchObject({ step: cycle[3], undone: true, undoErrors: [], errno: 'EEXIST' })
    expect(r.failed!.message).toBe('failed to rename "ens3" to "ens5": RTNETLINK answers: File exists')
    expect(k.calls[1]).toEqual({
      ns: '',
      force: true,
      cmds: [
        ['link', 'property', 'add', 'dev', 'ens3', 'altname', 'ens5x'],
        ['link', 'set', 'dev', 'ens4', 'name', 'ens5'],
        ['link', 'set', 'dev', 'nbtmp3', 'name', 'ens4'],
      ],
    })
    expect(k.where()).toEqual({ 3: 'ens4', 4: 'ens5', 5: 'ens3' })
    expect(k.dev('ens3')!.altnames).toEqual(['ens5x'])
  })

  it('a failure of the first step leaves nothing to undo', () => {
    const k = cycled()
    k.opts.failures = [{ match: is('name', 'ens4', 'nbtmp3'), errno: 'EOTHER' }]
    const r = applyPlan(namesOnly(cycle), k).names
    expect(r.failed).toMatchObject({ step: cycle[0], undone: false })
    expect(k.calls).toHaveLength(1)
  })

  it('a device renamed since the plan stops its group before anything runs', () => {
    const k = new FakeKernel([
      { ifindex: 3, name: 'ens4' },
      { ifindex: 4, name: 'eth9' },
      { ifindex: 5, name: 'ens3', altnames: ['ens5x'] },
    ])
    const r = applyPlan(namesOnly(cycle), k).names
    expect(r.failed).toMatchObject({ step: cycle[1], undone: false, errno: 'ENODEV' })
    expect(r.failed!.message).toContain('"ens5" (ifindex 4) is gone')
    expect(k.calls).toEqual([])
  })

  it("a device whose name is now another ifindex's is not renamed", () => {
    const k = new FakeKernel([
      { ifindex: 3, name: 'ens5' },
      { ifindex: 4, name: 'ens4' },
      { ifindex: 5, name: 'ens3', altnames: ['ens5x'] },
    ])
    const r = applyPlan(namesOnly(cycle), k).names
    expect(r.failed!.message).toContain('"ens4" is now ifindex 4, not 3')
    expect(k.calls).toEqual([])
  })

  it('a pre-6.2 kernel answers EBUSY for a device that is up: the failure says so, and the rename is undone', () => {
    const k = new FakeKernel([{ ifindex: 3, name: 'dev3', up: true, altnames: ['ens3'] }], { renameOnlyDown: true })
    const r = applyPlan(
      namesOnly([
        { op: 'altname-del', ifindex: 3, dev: 'dev3', altname: 'ens3' },
        { op: 'rename', ifindex: 3, from: 'dev3', to: 'ens3', temporary: false },
      ]),
      k,
    ).names
    expect(r.failed).toMatchObject({ errno: 'EBUSY', undone: true, undoErrors: [] })
    expect(k.dev('dev3')!.altnames).toEqual(['ens3'])
    // planned the old way (down, rename, up), it goes through
    const again = applyPlan(
      namesOnly([
        { op: 'altname-del', ifindex: 3, dev: 'dev3', altname: 'ens3' },
        { op: 'down', ifindex: 3, dev: 'dev3' },
        { op: 'rename', ifindex: 3, from: 'dev3', to: 'ens3', temporary: false },
        { op: 'up', ifindex: 3, dev: 'ens3' },
      ]),
      k,
    ).names
    expect(again.failed).toBeUndefined()
    expect(k.dev('ens3')).toMatchObject({ ifindex: 3, up: true })
  })
})

describe('applyPlan: settings', () => {
  const settings: Step[] = [
    { op: 'mac', ifindex: 3, dev: 'ens3', mac: '52:54:00:00:00:10', was: '02:00:00:00:00:99' },
    { op: 'mtu', ifindex: 3, dev: 'ens3', mtu: 9000, was: 1500 },
    { op: 'up', ifindex: 3, dev: 'ens3' },
  ]
  const one = () => new FakeKernel([{ ifindex: 3, name: 'ens3', mac: '02:00:00:00:00:99' }])

  it('a failed setting is reported and the ones after it still run', () => {
    const k = one()
    k.opts.failures = [{ match: is('mtu', 'ens3'), errno: 'EOTHER', text: 'Error: mtu greater than device maximum.' }]
    const r = applyPlan({ names: [], settings }, k)
    expect(r.settingErrors).toEqual([{ ifindex: 3, message: 'failed to set MTU of "ens3" to 9000 (was 1500): Error: mtu greater than device maximum.' }])
    expect(k.calls.map((c) => c.cmds.length)).toEqual([3, 1])
    expect(k.calls[1]!.cmds).toEqual([['link', 'set', 'dev', 'ens3', 'up']])
    expect(k.dev('ens3')).toMatchObject({ mac: '52:54:00:00:00:10', mtu: 1500, up: true })
  })

  it('a device that is gone is reported, the others run', () => {
    const k = one()
    const gone: Step = { op: 'mac', ifindex: 9, dev: 'ens9', mac: '52:54:00:00:00:19', was: '02:00:00:00:00:98' }
    const r = applyPlan({ names: [], settings: [gone, ...settings] }, k)
    expect(r.settingErrors.map((e) => e.message)).toEqual(['failed to set MAC of "ens9" back to 52:54:00:00:00:19 (was 02:00:00:00:00:98): "ens9" (ifindex 9) is gone: something else renamed or moved it while nicback was planning'])
    expect(k.calls[0]!.cmds.map((c) => c.at(-1))).toEqual(['52:54:00:00:00:10', '9000', 'up'])
  })

  it('a driver that refuses a new MAC while up (EBUSY) gets it down, MAC, up: the one MAC path', () => {
    const k = new FakeKernel([{ ifindex: 3, name: 'ens3', mac: '02:00:00:00:00:99', up: true }], { macOnlyDown: true })
    const r = applyPlan({ names: [], settings: settings.slice(0, 1) }, k)
    expect(r.settingErrors).toEqual([])
    expect(k.calls[1]!.cmds).toEqual([
      ['link', 'set', 'dev', 'ens3', 'down'],
      ['link', 'set', 'dev', 'ens3', 'address', '52:54:00:00:00:10'],
      ['link', 'set', 'dev', 'ens3', 'up'],
    ])
    expect(k.dev('ens3')).toMatchObject({ mac: '52:54:00:00:00:10', up: true })
    // setMac, which the pull-out uses, is the same path
    const k2 = new FakeKernel([{ ifindex: 3, name: 'ens3', mac: '02:00:00:00:00:99', up: true }], { macOnlyDown: true })
    expect(setMac(new Journal(k2), settings[0] as Extract<Step, { op: 'mac' }>)).toBeNull()
    expect(k2.dev('ens3')).toMatchObject({ mac: '52:54:00:00:00:10', up: true })
    // a MAC the driver refuses even down is reported with both answers
    const k3 = new FakeKernel([{ ifindex: 3, name: 'ens3', up: true }], { failures: [{ match: is('address', 'ens3'), errno: 'EBUSY', once: false }] })
    expect(setMac(new Journal(k3), settings[0] as Extract<Step, { op: 'mac' }>)?.text).toBe('RTNETLINK answers: Device or resource busy; set down: RTNETLINK answers: Device or resource busy')
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
  const back = () => new FakeKernel([{ ifindex: 3, name: 'dev3', altnames: ['ens3'] }])
  it('one process when everything works', () => {
    const k = back()
    expect(applyPlan({ names, settings }, k)).toEqual({ names: { done: names }, settingErrors: [] })
    expect(k.calls).toHaveLength(1)
    expect(k.calls[0]!.cmds).toHaveLength(4)
  })
  it('a failed rename is undone and no setting runs', () => {
    const k = back()
    k.opts.failures = [{ match: is('name', 'dev3', 'ens3'), errno: 'EEXIST' }]
    const r = applyPlan({ names, settings }, k)
    expect(r.names.failed).toMatchObject({ step: names[1], undone: true })
    expect(r.settingErrors).toEqual([])
    expect(k.calls[1]).toEqual({ ns: '', force: true, cmds: [['link', 'property', 'add', 'dev', 'dev3', 'altname', 'ens3']] })
    expect(k.calls).toHaveLength(2)
  })
  it('a failed setting keeps the renames and runs the settings after it', () => {
    const k = back()
    k.opts.failures = [{ match: is('mtu', 'ens3'), errno: 'EOTHER', text: 'Error: mtu greater than device maximum.' }]
    const r = applyPlan({ names, settings }, k)
    expect(r.names).toEqual({ done: names })
    expect(r.settingErrors.map((e) => e.message)).toEqual(['failed to set MTU of "ens3" to 9000 (was 1500): Error: mtu greater than device maximum.'])
    expect(k.calls[1]!.cmds).toEqual([['link', 'set', 'dev', 'ens3', 'up']])
  })
  it('a settings-only device that is gone is reported; the renames still run', () => {
    const k = back()
    const other: Step = { op: 'up', ifindex: 9, dev: 'ens9' }
    const r = applyPlan({ names, settings: [...settings, other] }, k)
    expect(r.settingErrors.map((e) => e.message)).toEqual(['failed to set "ens9" up: "ens9" (ifindex 9) is gone: something else renamed or moved it while nicback was planning'])
    expect(k.calls[0]!.cmds).toHaveLength(4)
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
  const swapped = () =>
    new FakeKernel([
      { ifindex: 3, name: 'eth0' },
      { ifindex: 4, name: 'eth1' },
      { ifindex: 9, name: 'dev9' },
    ])

  it('renameGroups: devices waiting on each other are one group, others their own', () => {
    const g = renameGroups([...swap, lone])
    expect(g(swap[0]!)).toBe(g(swap[1]!))
    expect(g(swap[2]!)).toBe(g(swap[0]!))
    expect(g(lone)).not.toBe(g(swap[0]!))
    expect(g({ op: 'up', ifindex: 4, dev: 'eth0' })).toBe(g(swap[0]!))
  })

  it('a failure in one group undoes that group only; the other group is done, and its settings run', () => {
    const k = swapped()
    k.opts.failures = [{ match: is('name', 'dev9', 'eth9'), errno: 'EEXIST' }]
    const names = [swap[0]!, swap[1]!, lone, swap[2]!]
    const settings: Step[] = [
      { op: 'up', ifindex: 4, dev: 'eth0' },
      { op: 'up', ifindex: 9, dev: 'eth9' },
    ]
    const r = applyPlan({ names, settings }, k)
    expect(r.names.failed).toMatchObject({ step: lone, undone: false })
    expect(r.names.done).toEqual([swap[0], swap[1], swap[2]])
    // Nothing of dev9's group to undo (no batch); then the rest of the swap
    // and its setting, not dev9's.
    expect(k.calls[1]!.cmds).toEqual([
      ['link', 'set', 'dev', 'nbtmp3', 'name', 'eth1'],
      ['link', 'set', 'dev', 'eth0', 'up'],
    ])
    expect(k.where()).toEqual({ 3: 'eth1', 4: 'eth0', 9: 'dev9' })
  })

  it('an undo that fails says exactly which NIC is left where', () => {
    // The third rename fails, and so does the undo of the first (its old
    // name was taken meanwhile): eth0's NIC is left as nbtmp3.
    const k = swapped()
    k.opts.failures = [
      { match: is('name', 'nbtmp3', 'eth1'), errno: 'EEXIST' },
      { match: is('name', 'nbtmp3', 'eth0'), errno: 'EBUSY' },
    ]
    const r = applyPlan(namesOnly(swap), k).names
    expect(r.failed!.undoErrors).toEqual(['undo of "rename "eth0" to "nbtmp3" (temporary, to break a cycle)" failed: RTNETLINK answers: Device or resource busy'])
    expect(r.failed!.left).toEqual(['eth0 (ifindex 3) is left as nbtmp3'])
    expect(k.where()).toEqual({ 3: 'nbtmp3', 4: 'eth1', 9: 'dev9' })
  })

  // Seen in the VM (6.1, host-device's crash): udevd gave the returned VF its
  // altname back (its move into devN) between nicback's drop and rename.
  it('putting back an altname that is back already is an undo done (EEXIST), so the run may plan again', () => {
    const steps: Step[] = [
      { op: 'altname-del', ifindex: 9, dev: 'dev9', altname: 'enp1s0v4' },
      { op: 'rename', ifindex: 9, from: 'dev9', to: 'enp1s0v4', temporary: false },
    ]
    const k = new FakeKernel([{ ifindex: 9, name: 'dev9', altnames: ['enp1s0v4'] }])
    // udevd puts the altname back, and the rename fails for a reason of its own
    k.opts.failures = [{ match: is('name', 'dev9'), errno: 'EBUSY', then: () => k.dev('dev9')!.altnames.push('enp1s0v4') }]
    const back = applyPlan(namesOnly(steps), k).names
    expect(back.failed).toMatchObject({ step: steps[1], undone: true, undoErrors: [], left: [] })
    // not back: the undo did fail
    const k2 = new FakeKernel([{ ifindex: 9, name: 'dev9', altnames: ['enp1s0v4'] }])
    k2.opts.failures = [
      { match: is('name', 'dev9'), errno: 'EEXIST' },
      { match: is('add', 'dev9'), errno: 'EEXIST' },
    ]
    const gone = applyPlan(namesOnly(steps), k2).names
    expect(gone.failed!.undoErrors).toEqual(['undo of "drop altname "enp1s0v4" of "dev9"" failed: RTNETLINK answers: File exists'])
  })

  it('a rename whose name comes back as its own altname after the plan (udevd, on a `move`) drops it and goes on; past a few tries the group is undone', () => {
    const steps: Step[] = [
      { op: 'rename', ifindex: 8, from: 'dev8', to: 'enp1s0v3', temporary: false },
      { op: 'rename', ifindex: 9, from: 'dev9', to: 'enp1s0v4', temporary: false },
      { op: 'mtu', ifindex: 9, dev: 'enp1s0v4', mtu: 9000, was: 1500 },
    ]
    const k = new FakeKernel([
      { ifindex: 8, name: 'dev8' },
      { ifindex: 9, name: 'dev9' },
    ])
    const late = () => {
      const d = k.dev('dev9')!
      if (!d.altnames.includes('enp1s0v4')) d.altnames.push('enp1s0v4')
    }
    // the kernel's answer is EEXIST because the altname is there now
    k.opts.failures = [{ match: is('name', 'dev9'), errno: 'EEXIST', then: late }]
    const r = applyPlan({ names: steps.slice(0, 2), settings: steps.slice(2) }, k)
    expect(r.names.failed).toBeUndefined()
    expect(r.settingErrors).toEqual([])
    expect(k.where()).toEqual({ 8: 'enp1s0v3', 9: 'enp1s0v4' })
    expect(k.altnames(9)).toEqual([])
    expect(k.calls[1]!.cmds[0]).toEqual(['link', 'property', 'del', 'dev', 'dev9', 'altname', 'enp1s0v4'])
    expect(r.names.done).toContainEqual({ op: 'altname-del', ifindex: 9, dev: 'dev9', altname: 'enp1s0v4' })
    expect(k.dev('enp1s0v4')!.mtu).toBe(9000)

    // udevd gives it back every time: after LATE_ALTNAME_TRIES drops, rolled back
    const k2 = new FakeKernel([{ ifindex: 9, name: 'dev9' }])
    k2.opts.failures = [
      {
        match: is('name', 'dev9'),
        errno: 'EEXIST',
        once: false,
        then: () => {
          const d = k2.dev('dev9')!
          if (!d.altnames.includes('enp1s0v4')) d.altnames.push('enp1s0v4')
        },
      },
    ]
    const stuck = applyPlan(namesOnly([steps[1]!]), k2).names
    expect(stuck.failed).toMatchObject({ step: steps[1], errno: 'EEXIST', undone: true, undoErrors: [], left: [] })
    expect(k2.calls.filter((c) => c.cmds[0]![2] === 'del')).toHaveLength(LATE_ALTNAME_TRIES)
    expect(k2.where()).toEqual({ 9: 'dev9' })
    // another device's name is not dropped: the group fails at once
    const k3 = new FakeKernel([
      { ifindex: 9, name: 'dev9' },
      { ifindex: 10, name: 'eth0', altnames: ['enp1s0v4'] },
    ])
    expect(applyPlan(namesOnly([steps[1]!]), k3).names.failed).toMatchObject({ step: steps[1], errno: 'EEXIST', undone: false })
    expect(k3.calls).toHaveLength(1)
    expect(k3.altnames(10)).toEqual(['enp1s0v4'])
  })
})
