// Recording, the moment before the two others: a NIC's host name and what
// identifies it are written down while it is home (`nicback record`, the
// boot-time unit, `nicback install`), and taken out again (`nicback forget`).
// The one place that reads the links and writes what plan/record.ts decides.
import { hostKernel, type Kernel } from '../apply/kernel.js'
import { recordLinks, type RecordResult } from '../plan/record.js'
import { describeEntry, registryPath, updateRegistry } from '../state/registry.js'

export interface RecordRequest {
  /** Exactly these devices, virtual ones included; empty: every NIC on a bus. */
  names: readonly string[]
  force: boolean
  boot: boolean
}

export interface Recorded extends RecordResult {
  /** The registry written. */
  registry: string
}

/** Records the NICs asked for (plan/record.ts) in one registry write. A name
 *  that is no device here is skipped, saying so. */
export function nicsRecorded(req: RecordRequest, kernel: Kernel = hostKernel()): Recorded {
  const links = kernel.links()
  const unknown = req.names.filter((n) => !links.some((l) => l.name === n))
  const chosen = req.names.length > 0 ? links.filter((l) => req.names.includes(l.name)) : links.filter((l) => l.bus !== null)
  const result = updateRegistry((reg) => {
    const r = recordLinks(reg, chosen, { force: req.force, boot: req.boot }, new Date().toISOString())
    return { changed: r.recorded.length > 0 || req.boot, value: r }
  })
  for (const n of unknown) result.skipped.push({ name: n, reason: `no network device named ${n} in this network namespace` })
  return { registry: registryPath(), ...result }
}

/** Takes these recorded names out of the registry: nicback no longer gives
 *  them back. `unknown`: the names that were not recorded. */
export function nicsForgotten(names: readonly string[]): { forgotten: string[]; unknown: string[] } {
  return updateRegistry((reg) => {
    const forgotten = reg.nics.filter((e) => names.includes(e.name)).map(describeEntry)
    reg.nics = reg.nics.filter((e) => !names.includes(e.name))
    const unknown = names.filter((n) => !forgotten.some((f) => f.startsWith(`${n} `)))
    return { changed: forgotten.length > 0, value: { forgotten, unknown } }
  })
}
