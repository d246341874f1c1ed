// Where every NIC is now (`nicback status`): the recorded NICs and the
// unrecorded ones on a bus, each with its state, and for an away one what
// keeps its network namespace alive. Read-only: takes no lock.
import { identityKey } from '../facts/identity.js'
import { keepersOf } from '../facts/keepers.js'
import { hostKernel, type Kernel } from '../apply/kernel.js'
import { hostNameSources } from '../facts/name-sources.js'
import { describeKeepers } from '../plan/describe.js'
import { findHostName } from '../plan/origin.js'
import { statusRows, type NoRecord, type StatusRow } from '../plan/status.js'
import { loadRegistry } from '../state/registry.js'
import type { Link, Registry } from '../types.js'

export { MAX_LISTED } from '../facts/keepers.js'
export type { StatusRow }

/** One row per recorded NIC and per unrecorded NIC on a bus. */
export function readStatus(kernel: Kernel = hostKernel()): StatusRow[] {
  const links = kernel.links()
  const reg = loadRegistry()
  return statusRows(
    links,
    reg.nics,
    (aways) => keepersOf(aways),
    (bus) => kernel.busPresent(bus),
    noRecordFacts(links, reg),
  )
}

/** The NICs with no record, and the names the host's sources give them
 *  (what a restore run would find: plan/origin.ts). */
export function noRecordFacts(links: readonly Link[], reg: Registry): NoRecord {
  const refusedFiles: string[] = []
  const sources = hostNameSources((file, why) => refusedFiles.push(`${file}: ${why}`))
  return {
    unnamed: reg.unnamed ?? [],
    find: (l) => {
      const f = findHostName(l, sources(l), links, reg.nics)
      return f.name === null && refusedFiles.length > 0 ? { ...f, why: `${f.why} (sriov-cni cache files not read: ${refusedFiles.join('; ')})` } : f
    },
  }
}

/** A row for people: its cells (RECORDED, NOW, STATE, SOURCE, IDENTITY, WHERE), and
 *  what keeps it away (null: it is not away). */
export function describeStatus(r: StatusRow): { cells: string[]; keepers: string | null } {
  return {
    cells: [r.recordedName ?? '-', r.name ?? '-', r.state, r.source ?? '-', identityKey({ ...r.identity }), r.detail],
    keepers: r.keepers === null ? null : describeKeepers(r.keepers),
  }
}
