// Repairs what nicback itself recorded wrongly before it saw hand-overs
// (plan/handover.ts): sriov-cni v2.3 to v2.10.0 (and CNI host-device v1.5)
// rename a NIC on the host to temp_<its ifindex> for the instant of its
// hand-over, and nicback took that name for an admin's rename and recorded
// it as the host name; its restores then gave the NIC that name, and the
// plugin's next ADD cached it. The name the host should have is nowhere on
// record any more, so it comes from udev's own naming policy for the
// device (facts/policy.ts), once the NIC is on the host. The pattern is
// only for this repair of old records: new departures are told apart by
// what the host saw. Pure.
import { identityKey, matchNics } from '../facts/identity.js'
import type { PolicyName } from '../facts/policy.js'
import type { Entry, Link } from '../types.js'

/** sriov-cni v2's name for a NIC on the host the instant before its move: temp_<ifindex>. */
export const HAND_OVER_NAME = /^temp_(\d{1,10})$/

export interface Repair {
  entry: Entry
  from: string
  to: string
  /** Which policy of udev's gave the name (`policy:path`...). */
  how: string
  message: string
}

/** The records to repair: a NIC recorded as temp_<its ifindex>, on the host
 *  now, to which udev's policy gives a name that no other recorded NIC has
 *  and no other device holds (nicback never takes a name). */
export function handOverRepairs(entries: readonly Entry[], links: readonly Link[], policy: (l: Link) => PolicyName | null): Repair[] {
  const { found } = matchNics(entries, links)
  const repairs: Repair[] = []
  for (const entry of entries) {
    const m = HAND_OVER_NAME.exec(entry.name)
    const link = found.get(entry)
    if (m === null || link === undefined || entry.bus === null) continue
    const n = Number(m[1])
    if (n !== link.ifindex && n !== entry.ifindex) continue
    const p = policy(link)
    if (p === null || p.name === entry.name) continue
    if (entries.some((e) => e !== entry && e.name === p.name)) continue
    if (links.some((l) => l !== link && (l.name === p.name || l.altnames.includes(p.name)))) continue
    repairs.push({
      entry,
      from: entry.name,
      to: p.name,
      how: p.how,
      message: `${entry.name} (${identityKey(entry)}) was recorded by an earlier nicback under a name a mover gives a NIC only while it hands it over (sriov-cni v2: temp_<ifindex>); the name udev's naming policy gives it is ${p.name} (${p.how})`,
    })
  }
  return repairs
}
