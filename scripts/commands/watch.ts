// `nicback watch`: the resident agent (runtimes/agent.ts), for Kubernetes
// nodes (deploy/kubernetes/) and hosts that would rather not start node for
// every udev event.
import { lockWaitFromEnv, parse, type Command } from '../lib/cli/cli.js'
import { renderMetrics } from '../lib/moments/metrics.js'
import { Agent } from '../lib/runtimes/agent.js'
import { log, logToSyslog, setJsonLogs } from '../lib/system/log.js'
import { errorText, nicbackError, toFields } from '../lib/system/errors.js'

const help = `Usage: nicback watch [--metrics-addr [HOST]:PORT] [--log-format text|json]

Stays running and does what nicback's udev rule does, without a process per
event: remembers a NIC's host name when it leaves (udev remove) and gives it
back when the kernel hands the NIC back (add, move). It reads the events
udevd sends out after its rules ran (udevadm monitor), so udev has named the
device and set its altnames first. NICs that come back together share one
restore run.

On start it brings home every recorded NIC that came back while nobody
watched (back as devN or a nicback temporary name, or recorded as away). It
uses the udev rule's lock and registry: both may be installed.

  --metrics-addr [HOST]:PORT  serve GET /metrics (Prometheus text), /healthz
                              (200 while udevadm monitor runs and the agent
                              is responsive) and /readyz (200 once the
                              start-up reconcile is done); HOST defaults to
                              127.0.0.1 (loopback only): give 0.0.0.0 or an
                              address to serve beyond this host. /metrics is
                              read at most once a second, never per request;
                              at most 1024 connections, each closed 2 s
                              after it opened or was answered unless a
                              whole request came in
  --log-format text|json      json: one object a line on stderr (time,
                              level, msg, nic, cause, fix); default text.
                              Logs also go to syslog/journald when /dev/log
                              exists. --json is --log-format json.

SIGTERM or SIGINT: the restore run in progress finishes, the lock is let
go, exit 0. Exit status 1 if udevadm monitor cannot run or stops.
Waits at most NICBACK_LOCK_WAIT seconds (default 10) for the lock.
`

/** "[HOST]:PORT" (an IPv6 HOST in brackets). No HOST: loopback, never every
 *  address (with hostNetwork that would be every address of the node); the
 *  exposure is the caller's to state. */
export function parseListen(raw: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(raw)
  const port = Number(m?.[3])
  if (!m || port < 1 || port > 65535) throw nicbackError('usage', 'watch', `--metrics-addr needs [HOST]:PORT (e.g. :9465 or 127.0.0.1:9465), not "${raw}"`)
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port }
}

const options = { 'metrics-addr': { type: 'string' }, 'log-format': { type: 'string' }, json: { type: 'boolean' } } as const

export default {
  summary: 'stay running and bring NICs home as udev reports them (Kubernetes agent)',
  help,
  options,
  choices: { 'log-format': ['text', 'json'] },
  async main(argv) {
    const { values } = parse(argv, options, false)
    const format = values['log-format'] ?? (values.json ? 'json' : 'text')
    if (format !== 'text' && format !== 'json') throw nicbackError('usage', 'watch', `--log-format is text or json, not "${format}"`)
    const listen = values['metrics-addr'] === undefined ? undefined : parseListen(values['metrics-addr'])
    const lockTimeoutSec = lockWaitFromEnv(10)
    setJsonLogs(format === 'json')
    logToSyslog()
    // The tests' event source (a stream in udevadm monitor's format); the
    // environment is root's, as is everything else nicback runs.
    const monitorArgv = process.env.NICBACK_WATCH_MONITOR ? (JSON.parse(process.env.NICBACK_WATCH_MONITOR) as string[]) : undefined
    const agent = new Agent({ lockTimeoutSec, listen, monitorArgv, metrics: renderMetrics })
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => agent.stop(0))
    try {
      await agent.start()
    } catch (err) {
      log.error(errorText(err), toFields(err))
      agent.stop(1)
      return 1
    }
    return agent.finished
  },
} satisfies Command
