// `nicback release NAME` for a name nicback never recorded (issue 18): one
// error saying so, before anything is done; not also "NAME is NOT home".
import { describe, expect, it } from 'vitest'
import { entry, nicback, useBuiltNicback, writeRegistry } from './nicback.js'

useBuiltNicback()

describe('release of a name that is not recorded', () => {
  it('one line on stderr, nothing on stdout, exit 1', () => {
    const r = nicback('release', 'nosuch')
    expect(r).toEqual({ code: 1, out: '', err: 'nicback: error: nosuch is not a recorded NIC (see "nicback status")\n' })
  })

  it('with a recorded one: nothing is released, each unknown name said once', () => {
    writeRegistry(entry('eth7', '0000:ff:1f.7'))
    const err = ['nosuch', 'other'].map((n) => `nicback: error: ${n} is not a recorded NIC (see "nicback status")\n`).join('')
    expect(nicback('release', 'eth7', 'nosuch', 'other')).toEqual({ code: 1, out: '', err })
  })

  it('--json: the same, as results', () => {
    const r = nicback('release', 'nosuch', '--json')
    expect(r.code).toBe(1)
    expect(JSON.parse(r.out)).toEqual({ results: [{ name: 'nosuch', ok: false, how: 'failed', error: 'nosuch is not a recorded NIC' }], steps: [] })
  })
})
