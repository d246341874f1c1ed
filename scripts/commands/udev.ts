// Run by udev (udev/81-nicback.rules) for NICs on a bus; the work is in
// moments/udev-event.ts.
import { parseSeconds, UsageError, type Command } from '../lib/cli/cli.js'
import { onUdevEvent, parseUdevEvent } from '../lib/moments/udev-event.js'
import { log, logToSyslog } from '../lib/system/log.js'

const help = `Usage: nicback udev

Called by nicback's udev rules (81-nicback.rules) with the event in the
environment (ACTION, INTERFACE, IFINDEX, DEVPATH):
  remove     remember the name the NIC leaves the host with
  add, move  give a returned NIC its recorded name back
Logs to syslog/journald under the tag "nicback". Waits at most
NICBACK_LOCK_WAIT seconds (default 10) for another nicback to finish.
`

export default {
  summary: 'entry point for the udev rules (reads the event from the environment)',
  help,
  main() {
    logToSyslog()
    const parsed = parseUdevEvent(process.env)
    if ('ignore' in parsed) {
      if (parsed.ignore === null) return 0
      if (parsed.ignore.startsWith('meant to be run by udev')) throw new UsageError(parsed.ignore)
      log.warn(parsed.ignore)
      return 0
    }
    const wait = process.env.NICBACK_LOCK_WAIT
    const lockTimeoutSec = wait === undefined || wait === '' ? 10 : parseSeconds(wait, 'NICBACK_LOCK_WAIT', 600)
    return onUdevEvent(parsed.event, lockTimeoutSec)
  },
} satisfies Command
