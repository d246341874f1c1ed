// A run's time, step by step (system/stopwatch.ts), on a clock the test moves.
import { describe, expect, it } from 'vitest'
import { stopwatch } from '../../../scripts/lib/system/stopwatch.js'

describe('stopwatch', () => {
  it('gives each step the time since the mark before it, in order, and adds up a step marked twice', () => {
    let t = 100
    const w = stopwatch(() => t)
    t = 103.4
    w.mark('lock')
    t = 120
    w.mark('links')
    t = 121
    w.mark('lock')
    expect(w.steps()).toEqual({ lock: 4, links: 17 })
    expect(w.text()).toBe('lock 4 ms, links 17 ms')
  })
  it('says nothing before the first mark', () => {
    expect(stopwatch(() => 0).steps()).toEqual({})
    expect(stopwatch(() => 0).text()).toBe('')
  })
})
