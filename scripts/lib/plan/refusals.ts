// Why a NIC must not be given to a container, as a pure function of what was
// read about it: the checks of `nicback assign` and the createRuntime hook.
import { isFallbackName, isValidIfname, IFNAME_RULE } from '../facts/names.js'
import type { HostUse } from '../facts/hostuse.js'
import type { Entry, Link } from '../types.js'
import { describeAway } from './describe.js'

/** Device kinds the kernel never moves to another netns (netns_immutable,
 *  formerly NETIF_F_NETNS_LOCAL). */
export const NETNS_LOCAL_KINDS = new Set(['bridge', 'bond', 'team', 'vrf', 'hsr', 'openvswitch', 'batadv', 'amt', 'ppp'])

export interface AssignFacts {
  hostName: string
  link: Link
  /** The registry's entry for this NIC, if any. */
  recorded: Entry | undefined
  wireless: boolean
  insideName: string
  /** Devices in the target netns. */
  inside: readonly Link[]
  where: string
  /** How the host uses it; undefined when not looked at (--force). */
  use?: HostUse | undefined
}

/** Pure: why a NIC must not be moved. `fatal` ones cannot be overridden. */
export function assignRefusals(f: AssignFacts): { fatal: string[]; overridable: string[] } {
  const fatal: string[] = []
  const overridable: string[] = []
  const { hostName: n, link } = f
  if (link.kind !== null && NETNS_LOCAL_KINDS.has(link.kind)) {
    fatal.push(`${n} is a ${link.kind} device, which the kernel never moves to another network namespace`)
  }
  if (f.wireless) fatal.push(`${n} is a wireless NIC: the kernel moves those only with their phy ("iw phy PHY set netns PID")`)
  if (isFallbackName(n) && (f.recorded === undefined || f.recorded.name !== n)) {
    fatal.push(`${n} is a kernel fallback or nicback temporary name, not a host name: give it its name back first ("nicback restore")`)
  }
  if (!isValidIfname(f.insideName)) {
    fatal.push(`"${f.insideName}" is not a valid interface name (${IFNAME_RULE})`)
  } else {
    // Every network namespace has its loopback, which the lists of NICs leave out.
    const holder = f.insideName === 'lo' ? { name: 'lo' } : f.inside.find((l) => l.name === f.insideName || l.altnames.includes(f.insideName))
    if (holder !== undefined) {
      const how = holder.name === f.insideName ? 'a device' : `an altname of ${holder.name}`
      fatal.push(`"${f.insideName}" is already ${how} in ${f.where}: ${f.insideName === n ? 'give it another name there with --as NAME' : 'choose another --as NAME'}`)
    }
  }
  const rec = f.recorded
  if (rec?.away) {
    overridable.push(`nicback recorded it as away (${rec.name} ${describeAway(rec.away)}) and has not seen it come home: run "nicback restore ${n}" first`)
  }
  if (link.bus === null) {
    overridable.push(`${n} is a virtual device (no bus): the kernel destroys it with the container's netns instead of giving it back`)
  }
  if (f.use?.defaultRoute) overridable.push(`${n} carries this host's default route`)
  if (f.use && f.use.addresses.length > 0) {
    overridable.push(`${n} has the host address${f.use.addresses.length > 1 ? 'es' : ''} ${f.use.addresses.join(', ')}, which the host would lose`)
  }
  return { fatal, overridable }
}
