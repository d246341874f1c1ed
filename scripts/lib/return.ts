// Moment two: a NIC returns to the host (udev add/move, an OCI poststop hook,
// `release`, or `nicback restore` by hand). Facts in, pure plan, steps out,
// then the result is read back from the kernel before anything is recorded.
import { applyPlan, describeStep } from './apply.js'
import { matchNics } from './identity.js'
import { renameWhileUp } from './kernel.js'
import { readLinks, refreshLinks } from './links.js'
import { log } from './log.js'
import { isFallbackName, planRestore, type Decision, type Plan, type Step } from './planner.js'
import { updateRegistry } from './registry.js'
import type { Entry, Link } from './types.js'

/** Which misnamed NICs to bring home:
 *  - returned: those seen leaving (udev, hook, assign), or carrying a kernel
 *    fallback (devN) or nicback temporary name: what the automatic paths do;
 *  - all: every recorded NIC that is present under another name;
 *  - names: these, by recorded name or current name. */
export type Selection = { kind: 'returned' } | { kind: 'all' } | { kind: 'names'; names: string[] }

export function wanted(sel: Selection): (e: Entry, l: Link) => boolean {
  switch (sel.kind) {
    case 'returned':
      return (e, l) => e.away !== null || isFallbackName(l.name)
    case 'all':
      return () => true
    case 'names':
      return (e, l) => sel.names.includes(e.name) || sel.names.includes(l.name)
  }
}

export interface NicResult extends Decision {
  /** Its name before this run (`now` is its name after). */
  was: string | null
  /** Verified by reading the kernel back after applying. */
  home: boolean
}

export interface RestoreReport {
  dryRun: boolean
  steps: { op: Step['op']; description: string }[]
  nics: NicResult[]
  errors: string[]
  /** Every NIC asked for is home. */
  ok: boolean
  ms: number
}

export interface RestoreOptions {
  select: Selection
  dryRun?: boolean
  lockTimeoutSec?: number
}

/** Brings returned NICs home. Idempotent: a second run finds nothing to do. */
export function nicReturns(opts: RestoreOptions): RestoreReport {
  const t0 = performance.now()
  const report = updateRegistry(
    (reg) => {
      const links = readLinks()
      const plan = planRestore(links, reg.nics, { want: wanted(opts.select), renameWhileUp: renameWhileUp() })
      if (opts.dryRun) return { changed: false, value: summarize(plan, links, reg.nics, opts, [], true) }

      const errors: string[] = []
      const { names, settingErrors } = applyPlan(plan)
      if (names.failed) {
        errors.push(names.failed.message, ...names.failed.undoErrors)
        if (names.failed.undone) errors.push('every rename done before the failure was undone; nothing is half-renamed')
      }
      errors.push(...settingErrors)
      // Read back: only what the kernel confirms is recorded as home.
      const after = refreshLinks(links)
      const { found } = matchNics(reg.nics, after)
      let changed = false
      for (const entry of reg.nics) {
        const link = found.get(entry)
        if (link === undefined) continue
        const d = plan.decisions[reg.nics.indexOf(entry)]!
        const cameHome = link.name === entry.name && (d.outcome === 'restore' || d.settings)
        if (cameHome || (link.name === entry.name && entry.ifindex !== link.ifindex)) {
          if (cameHome) entry.away = null
          entry.ifindex = link.ifindex
          entry.mac = link.mac
          changed = true
        }
      }
      return { changed, value: summarize(plan, after, reg.nics, opts, errors, false) }
    },
    { lockTimeoutSec: opts.lockTimeoutSec },
  )
  report.ms = Math.round(performance.now() - t0)
  return report
}

function summarize(plan: Plan, links: Link[], entries: Entry[], opts: RestoreOptions, errors: string[], dryRun: boolean): RestoreReport {
  const { found } = matchNics(entries, links)
  const nics = plan.decisions.map((d, i) => {
    const link = found.get(entries[i]!)
    const home = dryRun ? d.outcome === 'home' : link !== undefined && link.name === d.name
    return { ...d, was: d.now, now: link?.name ?? null, home }
  })
  const sel = opts.select
  const asked = (n: NicResult) => {
    switch (sel.kind) {
      case 'names':
        return sel.names.includes(n.name) || (n.was !== null && sel.names.includes(n.was))
      case 'all':
        return n.outcome !== 'away'
      case 'returned':
        return n.outcome === 'restore' || n.outcome === 'conflict' || n.outcome === 'ambiguous'
    }
  }
  const missing = sel.kind === 'names' ? sel.names.filter((name) => !nics.some((n) => n.name === name || n.was === name)) : []
  const stillAway = sel.kind === 'names' ? nics.filter((n) => asked(n) && n.outcome === 'away') : []
  const allErrors = [
    ...errors,
    ...missing.map((n) => `${n} is not a recorded NIC (see "nicback status"; record it with "nicback record ${n}")`),
    ...stillAway.map((n) => `${n.name} is not back in this network namespace (${n.reason}): nicback gives it its name when it returns, or use "nicback release ${n.name}"`),
  ]
  const ok = missing.length === 0 && errors.length === 0 && nics.filter(asked).every((n) => (dryRun ? n.outcome === 'home' || n.outcome === 'restore' : n.home))
  return {
    dryRun,
    steps: [...plan.names, ...plan.settings].map((s) => ({ op: s.op, description: describeStep(s) })),
    // Named: the NICs asked for, and any the run changed to free their names.
    nics: sel.kind === 'names' ? nics.filter((n) => asked(n) || n.outcome === 'restore' || n.settings) : nics,
    errors: allErrors,
    ok,
    ms: 0,
  }
}

/** One log line for the steps, one per NIC that was not simply home, and one per error. */
export function logReport(r: RestoreReport): void {
  if (r.steps.length > 0) log.info(`${r.dryRun ? 'would run' : 'ran'} in ${r.ms} ms: ${r.steps.map((s) => s.description).join('; ')}`)
  for (const n of r.nics) {
    if (n.outcome === 'restore') log.info(`${r.dryRun ? 'would restore' : n.home ? 'restored' : 'failed to restore'} ${n.name}: ${n.reason}`)
    else if (n.outcome === 'conflict' || n.outcome === 'ambiguous') log.warn(`cannot restore ${n.name} (now ${n.now ?? 'away'}): ${n.reason}`)
  }
  for (const e of r.errors) log.error(e)
}
