// Where a run's time goes, step by step (issue 21: one VF's return under
// emulation, accounted for): each mark is the time since the one before.

export interface Stopwatch {
  /** Ends step `name` now: the time since the last mark (or the start). */
  mark(name: string): void
  /** Each step's ms, in the order marked (a step marked twice adds up). */
  steps(): Record<string, number>
  /** "lock 2 ms, links 14 ms, ...". */
  text(): string
}

export function stopwatch(now: () => number = () => performance.now()): Stopwatch {
  let last = now()
  const spent = new Map<string, number>()
  return {
    mark(name) {
      const t = now()
      spent.set(name, (spent.get(name) ?? 0) + (t - last))
      last = t
    },
    steps: () => Object.fromEntries([...spent].map(([k, ms]) => [k, Math.round(ms)])),
    text: () => [...spent].map(([k, ms]) => `${k} ${Math.round(ms)} ms`).join(', '),
  }
}
