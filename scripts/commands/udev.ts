// Run by udev (udev/81-nicback.rules) for NICs on a bus; the work is in
// moments/udev-event.ts.
import { lockWaitFromEnv, type Command } from '../lib/cli/cli.js'
import { onUdevEvent, parseUdevEvent } from '../lib/moments/udev-event.js'
import { log, logToSyslog } from '../lib/system/log.js'
import { nicbackError } from '../lib/system/errors.js'

/** Remove events of NICs leaving together queue on the lock, each a short
 *  write; under software emulation 21 of them took more than 10 s. */
const UDEV_LOCK_WAIT_SEC = 60

const help = `Usage: nicback udev

Called by nicback's udev rules (81-nicback.rules) with the event in the
environment (ACTION, INTERFACE, IFINDEX, DEVPATH):
  remove     remember the name the NIC leaves the host with
  add, move  give a returned NIC its recorded name back
The rule runs it through nicback-udev-front.sh: when many NICs come back
at once, one process brings them all home and the others exit 0 without
starting node. Logs to syslog/journald under the tag "nicback". Waits at most
NICBACK_LOCK_WAIT seconds (default 60; udevd allows an event 180 s) for
another nicback to finish: the remove events of many NICs leaving at once
(a pod given 21 VFs) queue there, each a short registry write.
`

export default {
  summary: 'entry point for the udev rules (reads the event from the environment)',
  help,
  options: {},
  root: "it renames NICs and writes nicback's registry (udev runs it as root)",
  main() {
    logToSyslog()
    const parsed = parseUdevEvent(process.env)
    if ('ignore' in parsed) {
      if (parsed.ignore === null) return 0
      if (parsed.usage) throw nicbackError('usage', 'udev', parsed.ignore)
      log.warn(parsed.ignore, { cause: parsed.ignore })
      return 0
    }
    const lockTimeoutSec = lockWaitFromEnv(UDEV_LOCK_WAIT_SEC)
    return onUdevEvent(parsed.event, lockTimeoutSec)
  },
} satisfies Command
