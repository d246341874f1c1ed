// Recording, the moment before the two others: a NIC's host name and what
// identifies it are written down while it is home (`nicback record`, the
// boot-time unit, `nicback install`, the agent's start), and taken out again
// (`nicback forget`). Recording every NIC also writes down those already
// away in another network namespace, whose host name nicback never saw
// (plan/record.ts writeDownAway).
// The one place that reads the links and writes what plan/record.ts decides.
import { hostKernel, type Kernel } from '../apply/kernel.js'
import { otherNetns } from '../facts/namespaces.js'
import { recordLinks, writeDownAway, type RecordResult, type SeenAway } from '../plan/record.js'
import { openNetns } from '../system/netns.js'
import { describeEntry, registryPath, updateRegistry } from '../state/registry.js'

export interface RecordRequest {
  /** Exactly these devices, virtual ones included; empty: every NIC on a bus. */
  names: readonly string[]
  force: boolean
  boot: boolean
  /** Only NICs with no record yet (the agent's start). */
  onlyNew?: boolean
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
  // Every NIC: those away already too (not at boot: every container is gone).
  const away = req.names.length === 0 && !req.boot ? nicsAwayNow(kernel) : []
  const result = updateRegistry((reg) => {
    const now = new Date().toISOString()
    const r = recordLinks(reg, chosen, { force: req.force, boot: req.boot, onlyNew: req.onlyNew }, now)
    r.away = writeDownAway(reg, away, now)
    return { changed: r.recorded.length > 0 || r.away.length > 0 || req.boot, value: r }
  })
  for (const n of unknown) result.skipped.push({ name: n, reason: `no network device named ${n} in this network namespace` })
  return { registry: registryPath(), ...result }
}

/** The NICs on a bus in every other network namespace of the host, with
 *  where each is. A namespace that goes away while being looked into is
 *  skipped. */
export function nicsAwayNow(kernel: Kernel): SeenAway[] {
  const out: SeenAway[] = []
  for (const ns of otherNetns()) {
    let held
    try {
      held = openNetns(ns.path, ns.where)
    } catch {
      continue
    }
    try {
      for (const link of kernel.linksIn(held)) if (link.bus !== null) out.push({ link, netnsInode: ns.inode, where: ns.where })
    } catch {
      // it died meanwhile: its NICs are on their way home
    } finally {
      held.close()
    }
  }
  return out
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
