// RUN or NAME=? (issue 3): the same return measured with nicback's RUN rule
// and with a rule that lets udev rename through NAME=, in one boot, and the
// case that decides it: a swap, which NAME= cannot do (docs/design.md, "Why RUN and not NAME=").
import { readFileSync } from 'node:fs'
import { beforeAll, expect, test } from 'vitest'
import { CHECKOUT, runInVm, describeVm, requireVm, type VmRun } from './harness.js'

type Watch = { ok: boolean; nics: Record<string, { seen: string[]; backMs: number | null; namedMs: number | null; final: string | null }> }

describeVm('udev RUN versus NAME= (kernel 6.12)', () => {
  let vm: VmRun
  let r: Record<string, { watch: Watch }> = {}
  let context = ''
  beforeAll(async () => {
    requireVm()
    vm = await runInVm({ kernel: '6.12', script: readFileSync(`${CHECKOUT}/test/vm/scenarios/name-rule.sh`, 'utf8'), timeoutMs: 300_000 })
    r = (vm.result ?? {}) as typeof r
    context = `scenario log:\n${vm.log}\nguest log:\n${vm.guestLog}`
  })
  const M3 = '52:54:00:00:00:10'
  const took = (k: string) => {
    const n = r[k]?.watch.nics[M3]
    return n && n.namedMs !== null && n.backMs !== null ? n.namedMs - n.backMs : null
  }

  test('both rules bring a devN back to its name; times reported', () => {
    expect(vm.exitCode, context).toBe(0)
    for (const k of ['run-rule', 'name-rule']) {
      expect(r[k]?.watch.nics[M3]?.seen[0], `${k}\n${context}`).toMatch(/^dev\d+$/)
      expect(r[k]?.watch.nics[M3]?.final, `${k}\n${context}`).toBe('ens3')
    }
    console.log(`[vm 6.12 RUN vs NAME=] return to name: RUN ${took('run-rule')} ms, NAME= ${took('name-rule')} ms`)
  })

  test('NAME= cannot undo a swap: each NIC wants the name the other holds', () => {
    const w = r['name-swap']?.watch
    expect(w, context).toBeDefined()
    expect(w!.nics[M3]?.final, context).toBe('ens4')
    expect(w!.nics['52:54:00:00:00:11']?.final, context).toBe('ens3')
  })
})
