// Run by udev (udev/81-nicback.rules) for NICs on a bus: the rule filters out
// virtual devices, so veth churn never starts a process. This is the hot path:
// an `add` for a NIC that needs nothing reads one sysfs directory and the
// registry file, takes no lock and runs no command.
import { UsageError, type Command } from '../lib/cli.js'
import { sameNic } from '../lib/identity.js'
import { nicLeaves } from '../lib/leave.js'
import { busFromDevicePath, sysfsFacts } from '../lib/links.js'
import { logToSyslog } from '../lib/log.js'
import { loadRegistry } from '../lib/registry.js'
import { logReport, nicReturns } from '../lib/return.js'

const help = `Usage: nicback udev

Called by nicback's udev rules (81-nicback.rules) with the event in the
environment (ACTION, INTERFACE, IFINDEX, DEVPATH):
  remove     remember the name the NIC leaves the host with
  add, move  give a returned NIC its recorded name back
Logs to syslog/journald under the tag "nicback". Waits at most
NICBACK_LOCK_WAIT seconds (default 10) for another nicback to finish.
`

/** The device the event names is a recorded NIC at home under its name (or
 *  a NIC nicback has no name for). */
function needsNothing(name: string): boolean {
  const facts = sysfsFacts(name)
  // Renamed again since the event: that rename has an event of its own.
  if (facts.ifindex === null) return true
  const dev = { bus: facts.bus, devPort: facts.devPort, permAddr: facts.permAddr, mac: facts.mac }
  const recorded = loadRegistry().nics.filter((e) => sameNic(e, dev))
  // Not recorded: there is no name to give back (status lists it as unrecorded).
  if (recorded.length === 0) return true
  return recorded.every((e) => e.away === null && e.name === name)
}

export default {
  summary: 'entry point for the udev rules (reads the event from the environment)',
  help,
  main() {
    logToSyslog()
    const { ACTION: action, INTERFACE: name, DEVPATH: devpath, IFINDEX: ifindex } = process.env
    if (!action || !name || !devpath) throw new UsageError('meant to be run by udev: ACTION, INTERFACE and DEVPATH must be set')
    const bus = busFromDevicePath(devpath)
    if (bus === null) return 0
    const lockTimeoutSec = Number(process.env.NICBACK_LOCK_WAIT ?? 10)
    if (action === 'remove') {
      const idx = Number(ifindex)
      nicLeaves({ name, ifindex: Number.isInteger(idx) ? idx : null, bus, devPort: null, permAddr: null, mac: null, via: 'udev' }, lockTimeoutSec)
      return 0
    }
    if ((action !== 'add' && action !== 'move') || needsNothing(name)) return 0
    const report = nicReturns({ select: { kind: 'returned' }, lockTimeoutSec })
    logReport(report)
    return report.ok ? 0 : 1
  },
} satisfies Command
