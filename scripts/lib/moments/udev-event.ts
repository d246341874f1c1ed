// A udev event, read from its environment and checked, handed to the moment
// it stands for: `remove` -> a NIC leaves (moments/leave.ts), `add`/`move` ->
// a NIC may have returned (moments/return.ts). The rule filters out virtual
// devices, so veth churn never gets here. An `add` for a NIC that needs
// nothing reads one sysfs directory and the registry file, takes no lock and
// runs no command: it is the hot path.
import { sameNic } from '../facts/identity.js'
import { eventUsec } from '../facts/udevdb.js'
import { busFromDevicePath, sysfsFacts } from '../facts/links.js'
import { isValidIfname, printable } from '../facts/names.js'
import { loadRegistry } from '../state/registry.js'
import { nicLeaves } from './leave.js'
import { logReport, nicReturns } from './return.js'

export interface UdevEvent {
  action: 'add' | 'move' | 'remove'
  name: string
  ifindex: number | null
  /** The NIC's bus identity, from DEVPATH (sysfs is gone at `remove`). */
  bus: string
}

/** Pure: the event in `env`, or why it is not one nicback acts on (null
 *  reason: an event to ignore quietly, e.g. a virtual device or `change`). */
export function parseUdevEvent(env: NodeJS.ProcessEnv): { event: UdevEvent } | { ignore: string | null } {
  const { ACTION: action, INTERFACE: name, DEVPATH: devpath, IFINDEX: ifindex } = env
  if (!action || !name || !devpath) return { ignore: 'meant to be run by udev: ACTION, INTERFACE and DEVPATH must be set' }
  if (action !== 'add' && action !== 'move' && action !== 'remove') return { ignore: null }
  const bus = busFromDevicePath(devpath)
  if (bus === null || devpath.includes('/../') || devpath.length > 4096) return { ignore: null }
  if (!isValidIfname(name)) return { ignore: `udev ${action} event for INTERFACE="${printable(name)}", which is not a valid interface name: ignored` }
  let idx: number | null = null
  if (ifindex !== undefined && ifindex !== '') {
    if (!/^[1-9]\d{0,9}$/.test(ifindex) || Number(ifindex) > 0x7fffffff) return { ignore: `udev ${action} event for ${name} with IFINDEX="${printable(ifindex)}", which is not an ifindex: ignored` }
    idx = Number(ifindex)
  }
  return { event: { action, name, ifindex: idx, bus } }
}

/** The device the event names is a recorded NIC at home under its name (or
 *  a NIC nicback has no name for). */
function needsNothing(name: string): boolean {
  const facts = sysfsFacts(name)
  // Renamed again since the event: that rename has an event of its own.
  if (facts.ifindex === null) return true
  const dev = { bus: facts.bus, devPort: facts.devPort, permAddr: facts.permAddr, mac: facts.mac, ifindex: facts.ifindex }
  const recorded = loadRegistry().nics.filter((e) => sameNic(e, dev))
  // Not recorded: there is no name to give back (status lists it as unrecorded).
  if (recorded.length === 0) return true
  return recorded.every((e) => e.away === null && e.name === name)
}

/** Handles one event; returns the exit status for udev. */
export function onUdevEvent(e: UdevEvent, lockTimeoutSec: number): number {
  if (e.action === 'remove') {
    nicLeaves({ name: e.name, ifindex: e.ifindex, bus: e.bus, devPort: null, permAddr: null, mac: null, via: 'udev' }, lockTimeoutSec)
    return 0
  }
  if (needsNothing(e.name)) return 0
  const report = nicReturns({ select: { kind: 'returned' }, lockTimeoutSec, returnedAtUsec: eventUsec(process.env) })
  logReport(report)
  return report.ok ? 0 : 1
}

