// "Did you mean": a mistyped command or option is answered with the nearest
// of the ones there are (nicback.ts over the command names, cli.ts's parse()
// over that command's own options).

/** Pure: the Levenshtein distance (insertions, deletions, substitutions)
 *  between a and b, by code unit. */
export function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)))
    prev = row
  }
  return prev[b.length]!
}

/** Pure: the candidates nearest to `typed`, at most 2 edits away and fewer
 *  edits than `typed` has characters (a one-letter typo is not "nearest" to
 *  everything), in the candidates' order; [] when none is near. Case does
 *  not count. */
export function nearest(typed: string, candidates: readonly string[]): string[] {
  const t = typed.toLowerCase()
  const scored = candidates.map((c) => ({ c, d: distance(t, c.toLowerCase()) })).filter(({ d }) => d <= 2 && d < t.length)
  const best = Math.min(...scored.map(({ d }) => d))
  return scored.filter(({ d }) => d === best).map(({ c }) => c)
}

/** Pure: `; did you mean "x"?` (or "x" or "y"), or '' when nothing is near;
 *  `prefix` goes before each ("--" for options, compared without it). */
export function didYouMean(typed: string, candidates: readonly string[], prefix = ''): string {
  const near = nearest(typed, candidates)
  if (near.length === 0) return ''
  return `; did you mean ${near.map((c) => `"${prefix}${c}"`).join(' or ')}?`
}
