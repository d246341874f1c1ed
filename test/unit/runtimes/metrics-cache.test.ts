// The agent's /metrics cache (runtimes/metrics-cache.ts): reads are shared by
// every scrape, at most one a second, stopped for a restore run. (The port's
// pacing of /metrics answers: agent-port.test.ts.)
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { MAX_AGE_MS, MetricsCache, MIN_GAP_MS } from '../../../scripts/lib/runtimes/metrics-cache.js'

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

/** A read that takes `ms` and gives "n <reads>", noting its signal. */
function reader(ms = 20) {
  const signals: AbortSignal[] = []
  const read = (signal: AbortSignal) => {
    signals.push(signal)
    const n = signals.length
    return new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => resolve(`n ${n}\n`), ms)
      signal.addEventListener('abort', () => (clearTimeout(t), reject(new Error('aborted'))))
    })
  }
  return { read, signals }
}

describe('MetricsCache', () => {
  test('a thousand scrapes at once: one read; the first scrapes wait for it, later ones get the text at once', async () => {
    const r = reader()
    const cache = new MetricsCache(r.read, () => Date.now())
    const first = Array.from({ length: 1000 }, () => cache.get())
    await vi.advanceTimersByTimeAsync(20)
    expect(await Promise.all(first)).toEqual(Array(1000).fill('n 1\n'))
    expect(await cache.get()).toBe('n 1\n')
    expect(r.signals).toHaveLength(1)
  })

  test('a text older than MAX_AGE_MS is served as it is, and read again once, MIN_GAP_MS after the last read at the earliest', async () => {
    const r = reader()
    const cache = new MetricsCache(r.read, () => Date.now())
    const p = cache.get()
    await vi.advanceTimersByTimeAsync(20)
    await p
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS)
    expect(await cache.get()).toBe('n 1\n')
    expect(await cache.get()).toBe('n 1\n')
    await vi.advanceTimersByTimeAsync(20)
    expect(r.signals).toHaveLength(2)
    expect(await cache.get()).toBe('n 2\n')
    // events in a burst: one read, a second after the last one started
    for (let i = 0; i < 50; i++) cache.invalidate()
    await vi.advanceTimersByTimeAsync(MIN_GAP_MS - 100)
    expect(r.signals).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(200)
    expect(r.signals).toHaveLength(3)
  })

  test('restores first: hold() stops the read in flight and starts none until release(), which reads what the run changed', async () => {
    const r = reader(50)
    const cache = new MetricsCache(r.read, () => Date.now())
    const p = cache.get()
    await vi.advanceTimersByTimeAsync(50)
    await p
    await vi.advanceTimersByTimeAsync(MIN_GAP_MS)
    cache.invalidate()
    await vi.advanceTimersByTimeAsync(10)
    expect(r.signals).toHaveLength(2)
    cache.hold()
    expect(r.signals[1]!.aborted).toBe(true)
    cache.invalidate()
    await vi.advanceTimersByTimeAsync(5 * MIN_GAP_MS)
    expect(r.signals).toHaveLength(2)
    expect(await cache.get()).toBe('n 1\n') // the last text, while the run goes on
    cache.release()
    await vi.advanceTimersByTimeAsync(50)
    expect(r.signals).toHaveLength(3)
    expect(await cache.get()).toBe('n 3\n')
  })

  test('an event during a read: read again after it', async () => {
    const r = reader(100)
    const cache = new MetricsCache(r.read, () => Date.now())
    cache.invalidate()
    await vi.advanceTimersByTimeAsync(50)
    cache.invalidate()
    await vi.advanceTimersByTimeAsync(50 + MIN_GAP_MS)
    expect(r.signals).toHaveLength(2)
  })

  test("a read that fails: the scrapes get its error, and the next read's text once it works", async () => {
    let fail = true
    const cache = new MetricsCache(
      async () => {
        if (fail) throw new Error('registry unreadable')
        return 'ok 1\n'
      },
      () => Date.now(),
    )
    const first = expect(cache.get()).rejects.toThrow('registry unreadable')
    await vi.advanceTimersByTimeAsync(0)
    await first
    fail = false
    await vi.advanceTimersByTimeAsync(MIN_GAP_MS + MAX_AGE_MS)
    await cache.get().catch(() => '')
    await vi.advanceTimersByTimeAsync(MIN_GAP_MS)
    expect(await cache.get()).toBe('ok 1\n')
  })
})
