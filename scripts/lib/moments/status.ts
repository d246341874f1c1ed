// Where every NIC is now (`nicback status`): the recorded NICs and the
// unrecorded ones on a bus, each with its state, and for an away one what
// keeps its network namespace alive. Read-only: takes no lock.
import { identityKey } from '../facts/identity.js'
import { keepersOf } from '../facts/keepers.js'
import { hostKernel, type Kernel } from '../apply/kernel.js'
import { describeKeepers } from '../plan/describe.js'
import { statusRows, type StatusRow } from '../plan/status.js'
import { loadRegistry } from '../state/registry.js'

export { MAX_LISTED } from '../facts/keepers.js'
export type { StatusRow }

/** One row per recorded NIC and per unrecorded NIC on a bus. */
export function readStatus(kernel: Kernel = hostKernel()): StatusRow[] {
  return statusRows(
    kernel.links(),
    loadRegistry().nics,
    (aways) => keepersOf(aways),
    (bus) => kernel.busPresent(bus),
  )
}

/** A row for people: its cells (RECORDED, NOW, STATE, IDENTITY, WHERE), and
 *  what keeps it away (null: it is not away). */
export function describeStatus(r: StatusRow): { cells: string[]; keepers: string | null } {
  return {
    cells: [r.recordedName ?? '-', r.name ?? '-', r.state, identityKey({ ...r.identity }), r.detail],
    keepers: r.keepers === null ? null : describeKeepers(r.keepers),
  }
}
