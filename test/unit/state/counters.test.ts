// The restore counters file (state/counters.ts): schema on read and write,
// a corrupt or foreign file warned about and read as zero (never an error),
// atomic 0600 writes, and the histogram's bucket placement (property test).
import { chmodSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { addRun, BUCKETS, CAUSES, countersPath, emptyCounters, noteRun, parseCounters, readCounters, saveCounters, type RunDelta } from '../../../scripts/lib/state/counters.js'
import { log } from '../../../scripts/lib/system/log.js'
import { useTempStateDir } from '../helpers.js'

const state = useTempStateDir()
afterEach(() => vi.restoreAllMocks())

const delta = (o: Partial<RunDelta> = {}): RunDelta => ({ done: 0, failed: 0, conflicts: {}, run: null, seconds: [], ...o })
const warnings = () => {
  const lines: string[] = []
  vi.spyOn(log, 'warn').mockImplementation((m) => void lines.push(m))
  return lines
}

describe('counters file', () => {
  it('lives beside the registry in NICBACK_STATE_DIR', () => {
    expect(countersPath()).toBe(join(state.dir, 'counters.json'))
  })

  it('reads as zero, with no warning, when it does not exist yet', () => {
    expect(readCounters()).toEqual({ counters: emptyCounters(), problem: null })
  })

  it('round-trips, as a 0600 file, with no temporary file left behind', () => {
    const c = addRun(emptyCounters(), delta({ done: 2, failed: 1, conflicts: { name_held: 3 }, seconds: [0.05, 7] }))
    saveCounters(c)
    expect(readCounters()).toEqual({ counters: c, problem: null })
    expect(statSync(countersPath()).mode & 0o777).toBe(0o600)
    expect(readdirSync(state.dir)).toEqual(['counters.json'])
  })

  it('noteRun adds to what is there and writes nothing for a run that counted nothing', () => {
    noteRun(delta())
    expect(readdirSync(state.dir)).toEqual([])
    noteRun(delta({ done: 1, seconds: [0.3] }))
    noteRun(delta({ done: 2, failed: 1, conflicts: { ambiguous: 1 } }))
    const c = readCounters().counters
    expect(c.restores).toEqual({ done: 3, failed: 1 })
    expect(c.conflicts.ambiguous).toBe(1)
    expect(c.returnToName.count).toBe(1)
  })
})

describe('a file that cannot be used: warned about, read as zero, replaced by the next run; never an error', () => {
  const cases: [string, string, RegExp][] = [
    ['not JSON', '{"format": "nicback-counters", ', /is not valid JSON/],
    ['not counters', JSON.stringify({ format: 'nicback-registry', version: 1, nics: [] }), /fails the counters schema/],
    ['a newer version', JSON.stringify({ ...emptyCounters(), version: 2 }), /fails the counters schema/],
    ['a negative count', JSON.stringify({ ...emptyCounters(), restores: { done: -1, failed: 0 } }), /restores\.done/],
    ['a fractional count', JSON.stringify({ ...emptyCounters(), restores: { done: 1.5, failed: 0 } }), /restores\.done/],
    ['other bucket bounds', JSON.stringify({ ...emptyCounters(), returnToName: { ...emptyCounters().returnToName, le: [1, 2, 3] } }), /other bucket bounds/],
    ['non-cumulative buckets', JSON.stringify({ ...emptyCounters(), returnToName: { le: [...BUCKETS], counts: [2, 1, 1, 1, 1, 1, 1, 1], sum: 1, count: 2 } }), /not cumulative/],
    ['buckets above the count', JSON.stringify({ ...emptyCounters(), returnToName: { le: [...BUCKETS], counts: BUCKETS.map(() => 5), sum: 1, count: 2 } }), /not cumulative/],
  ]
  for (const [what, text, why] of cases) {
    it(what, () => {
      expect(parseCounters(text)).toEqual({ problem: expect.stringMatching(why) })
      writeFileSync(countersPath(), text, { mode: 0o600 })
      const lines = warnings()
      noteRun(delta({ done: 1 }))
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain(countersPath())
      expect(lines[0]).toMatch(/start again from zero .*remove it/)
      expect(readCounters()).toEqual({ counters: addRun(emptyCounters(), delta({ done: 1 })), problem: null })
    })
  }

  it('a symlink is not followed', () => {
    const real = join(state.dir, 'real.json')
    writeFileSync(real, JSON.stringify(emptyCounters()), { mode: 0o600 })
    symlinkSync(real, countersPath())
    expect(readCounters().problem).toMatch(/symlink/)
  })

  it('a file others can write is not trusted', () => {
    saveCounters(addRun(emptyCounters(), delta({ done: 4 })))
    chmodSync(countersPath(), 0o666)
    expect(readCounters()).toEqual({ counters: emptyCounters(), problem: expect.stringMatching(/others can write it/), refused: true })
  })

  it('a state directory that cannot be written: warned, not thrown', () => {
    process.env.NICBACK_STATE_DIR = join(state.dir, 'counters.json', 'below-a-file')
    const lines = warnings()
    expect(() => noteRun(delta({ done: 1 }))).not.toThrow()
    expect(lines.join('\n')).toMatch(/were not updated: .*the restore itself is not affected/)
  })

  it('refuses to write counters it would not read back', () => {
    const bad = emptyCounters()
    bad.restores.done = Number.NaN
    expect(() => saveCounters(bad)).toThrow(/would not read back/)
    expect(readdirSync(state.dir)).toEqual([])
  })
})

describe('addRun', () => {
  it('places each observation in every bucket whose bound it does not exceed (le is inclusive)', () => {
    const c = addRun(emptyCounters(), delta({ seconds: [0.1, 0.2, 1, 31] }))
    expect(c.returnToName.counts).toEqual([1, 2, 2, 3, 3, 3, 3, 3])
    expect(c.returnToName.count).toBe(4)
    expect(c.returnToName.sum).toBeCloseTo(32.3)
  })

  it('drops a duration that is not a finite non-negative number', () => {
    const c = addRun(emptyCounters(), delta({ done: 3, seconds: [Number.NaN, -1, Infinity] }))
    expect(c.returnToName).toEqual(emptyCounters().returnToName)
    expect(c.restores.done).toBe(3)
  })

  it('does not change the counters it is given', () => {
    const c = emptyCounters()
    addRun(c, delta({ done: 1, conflicts: { other: 1 }, seconds: [1] }))
    expect(c).toEqual(emptyCounters())
  })

  it('property: count = observations, buckets cumulative and only growing, sum = their total, what is written reads back', () => {
    const seconds = fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), fc.constantFrom(...BUCKETS), fc.constant(0))
    const run = fc.record({
      done: fc.nat(5),
      failed: fc.nat(5),
      conflicts: fc.dictionary(fc.constantFrom(...CAUSES), fc.nat(3)),
      run: fc.constantFrom('ok' as const, 'failed' as const, null),
      seconds: fc.array(seconds, { maxLength: 8 }),
    })
    fc.assert(
      fc.property(fc.array(run, { maxLength: 12 }), (runs) => {
        let c = emptyCounters()
        let prev = c.returnToName.counts
        const all: number[] = []
        for (const r of runs) {
          c = addRun(c, r)
          all.push(...r.seconds)
          const h = c.returnToName
          h.counts.forEach((n, i) => {
            expect(n).toBeGreaterThanOrEqual(prev[i]!)
            if (i > 0) expect(n).toBeGreaterThanOrEqual(h.counts[i - 1]!)
          })
          expect(h.counts.at(-1)!).toBeLessThanOrEqual(h.count)
          prev = h.counts
        }
        const h = c.returnToName
        expect(h.count).toBe(all.length)
        BUCKETS.forEach((b, i) => expect(h.counts[i]).toBe(all.filter((s) => s <= b).length))
        expect(h.sum).toBeCloseTo(
          all.reduce((a, s) => a + s, 0),
          6,
        )
        expect(c.restores.done).toBe(runs.reduce((a, r) => a + r.done, 0))
        expect(parseCounters(JSON.stringify(c))).toEqual({ counters: c })
      }),
      { numRuns: 300 },
    )
  })
})
