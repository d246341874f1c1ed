// The one undo mechanism, on the in-memory kernel: every typed step's undo,
// newest first, every undo tried when one fails, actions (the registry)
// undone in their place among the link steps.
import { describe, expect, it } from 'vitest'
import { Journal, undoOf } from '../../../scripts/lib/apply/journal.js'
import type { Step } from '../../../scripts/lib/types.js'
import { FakeKernel } from '../fake-kernel.js'

describe('undoOf: every change has its typed undo', () => {
  const cases: [Step, Step | null][] = [
    [
      { op: 'altname-del', ifindex: 3, dev: 'a', altname: 'x' },
      { op: 'altname-add', ifindex: 3, dev: 'a', altname: 'x' },
    ],
    [
      { op: 'altname-add', ifindex: 3, dev: 'a', altname: 'x' },
      { op: 'altname-del', ifindex: 3, dev: 'a', altname: 'x' },
    ],
    [
      { op: 'down', ifindex: 3, dev: 'a' },
      { op: 'up', ifindex: 3, dev: 'a' },
    ],
    [
      { op: 'up', ifindex: 3, dev: 'a' },
      { op: 'down', ifindex: 3, dev: 'a' },
    ],
    [
      { op: 'rename', ifindex: 3, from: 'a', to: 'b', temporary: true },
      { op: 'rename', ifindex: 3, from: 'b', to: 'a', temporary: true },
    ],
    [
      { op: 'mtu', ifindex: 3, dev: 'a', mtu: 9000, was: 1500 },
      { op: 'mtu', ifindex: 3, dev: 'a', mtu: 1500, was: 9000 },
    ],
    [
      { op: 'mac', ifindex: 3, dev: 'a', mac: '02:00:00:00:00:01', was: '02:00:00:00:00:02' },
      { op: 'mac', ifindex: 3, dev: 'a', mac: '02:00:00:00:00:02', was: '02:00:00:00:00:01' },
    ],
    // a move between namespaces is undone by the other moment (an action)
    [{ op: 'netns', ifindex: 3, dev: 'a', to: '/proc/1/fd/9', where: 'container c1' }, null],
  ]
  it.each(cases)('%j', (step, undo) => expect(undoOf(step)).toEqual(undo))
})

describe('Journal', () => {
  it('rolls back every step done, newest first, actions in their place: the kernel is as before', () => {
    const k = new FakeKernel([{ ifindex: 3, name: 'dev3', altnames: ['ens3'], mtu: 1500 }])
    const before = structuredClone([...k.spaces.get('')!])
    const j = new Journal(k)
    const order: string[] = []
    j.must([
      { op: 'altname-del', ifindex: 3, dev: 'dev3', altname: 'ens3' },
      { op: 'rename', ifindex: 3, from: 'dev3', to: 'ens3', temporary: false },
    ])
    j.undoable('record ens3 as away', () => order.push('registry'))
    j.must([
      { op: 'mtu', ifindex: 3, dev: 'ens3', mtu: 9000, was: 1500 },
      { op: 'up', ifindex: 3, dev: 'ens3' },
    ])
    expect(j.done).toEqual(['drop altname "ens3" of "dev3"', 'rename "dev3" to "ens3"', 'set MTU of "ens3" to 9000 (was 1500)', 'set "ens3" up'])
    expect(j.dirty).toBe(true)
    expect(j.rollback()).toEqual([])
    expect(k.spaces.get('')).toEqual(before)
    expect(order).toEqual(['registry'])
    // newest first: the settings' undos in one batch, the action, then the names'
    expect(k.calls.slice(2).map((c) => [c.force, c.cmds])).toEqual([
      [
        true,
        [
          ['link', 'set', 'dev', 'ens3', 'down'],
          ['link', 'set', 'dev', 'ens3', 'mtu', '1500'],
        ],
      ],
      [
        true,
        [
          ['link', 'set', 'dev', 'ens3', 'name', 'dev3'],
          ['link', 'property', 'add', 'dev', 'dev3', 'altname', 'ens3'],
        ],
      ],
    ])
    expect(j.dirty).toBe(false)
    expect(j.rollback()).toEqual([])
  })

  it("run stops at the first failure, journals the steps before it, and returns the kernel's answer", () => {
    const k = new FakeKernel([
      { ifindex: 3, name: 'dev3' },
      { ifindex: 4, name: 'ens3' },
    ])
    const j = new Journal(k)
    const f = j.run([
      { op: 'up', ifindex: 3, dev: 'dev3' },
      { op: 'rename', ifindex: 3, from: 'dev3', to: 'ens3', temporary: false },
      { op: 'mtu', ifindex: 3, dev: 'dev3', mtu: 9000, was: 1500 },
    ])
    expect(f).toMatchObject({ line: 2, errno: 'EEXIST', step: { op: 'rename' } })
    expect(j.done).toEqual(['set "dev3" up'])
    expect(() => j.must([{ op: 'rename', ifindex: 3, from: 'dev3', to: 'ens3', temporary: false }])).toThrow(expect.objectContaining({ code: 'step_failed', message: 'failed to rename "dev3" to "ens3": RTNETLINK answers: File exists' }))
    j.rollback()
    expect(k.dev('dev3')).toMatchObject({ up: false, mtu: 1500 })
  })

  it('an undo that fails is reported and the older undos still run', () => {
    const k = new FakeKernel([
      { ifindex: 3, name: 'a' },
      { ifindex: 4, name: 'b' },
    ])
    const j = new Journal(k)
    j.must([{ op: 'rename', ifindex: 3, from: 'a', to: 'a1', temporary: false }])
    j.undoable('write the registry', () => {
      throw new Error('disk full')
    })
    j.must([{ op: 'rename', ifindex: 4, from: 'b', to: 'b1', temporary: false }])
    k.opts.failures = [{ match: (c) => c.includes('b1'), errno: 'EBUSY' }]
    expect(j.rollback()).toEqual(['undo of "rename "b" to "b1"" failed: RTNETLINK answers: Device or resource busy', 'undo of "write the registry" failed: disk full'])
    expect(k.where()).toEqual({ 3: 'a', 4: 'b1' })
  })

  it('do: a change that is no link step, undone with the rest; its failure is a step_failed error naming it', () => {
    const j = new Journal(new FakeKernel())
    let n = 0
    j.do(
      'count',
      () => n++,
      () => n--,
    )
    expect(() =>
      j.do('fail', () => {
        throw new Error('no')
      }),
    ).toThrow('failed to fail: no')
    j.rollback()
    expect(n).toBe(0)
  })
})
