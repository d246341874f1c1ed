// The resident agent (`nicback watch`, a DaemonSet on Kubernetes nodes): the
// same two moments as the udev rule, in one long-running process. It listens
// to the events udevd sends out after its rules ran (`udevadm monitor`: one
// child process for the agent's life, node has no netlink socket of its
// own), remembers on `remove`, and brings NICs home on `add`/`move`. Events
// that arrive together share one restore run. Started, it first brings home
// what came back while nobody watched (a rebooted node, an agent that was
// down while a pod died). It takes the same lock and registry as the udev
// rule, so both can be installed: the second to look finds the work done.
// Its HTTP port (runtimes/agent-port.ts) never makes a restore wait: probes
// answer from state in memory, /metrics from a cache read asynchronously
// between runs (runtimes/metrics-cache.ts).
import { spawn, type ChildProcess } from 'node:child_process'
import type { Server } from 'node:http'
import { MonitorStream } from '../facts/udev-monitor.js'
import { nicsRecorded } from '../moments/record.js'
import { logReport, nicReturns } from '../moments/return.js'
import { dispatchUdevEvent, parseUdevEvent } from '../moments/udev-event.js'
import { HAND_OVER_MS, type HostRename } from '../plan/handover.js'
import { isFallbackName } from '../facts/names.js'
import { which } from '../system/exec.js'
import { flushSyslog, log } from '../system/log.js'
import { errorText, nicbackError, toFields } from '../system/errors.js'
import { hostname } from 'node:os'
import { readProcessFacts } from '../facts/process.js'
import { formatAgentMetrics, type AgentFacts } from '../plan/metrics.js'
import { loadRegistry } from '../state/registry.js'
import { nodeName } from '../system/log.js'
import { VERSION } from '../system/version.js'
import { listenPort } from './agent-port.js'
import { MetricsCache } from './metrics-cache.js'

export interface AgentOptions {
  lockTimeoutSec: number
  /** Serve /metrics, /healthz and /readyz here. */
  listen?: { host: string; port: number }
  /** Reads the Prometheus text for /metrics without blocking (`signal`
   *  stops the read); served from a cache, never read per scrape. */
  metrics?: (signal: AbortSignal) => Promise<string>
  /** The event source (tests): the argv of a process printing what
   *  `udevadm monitor --udev --property` prints. */
  monitorArgv?: string[]
}

export interface AgentState {
  /** Restores can run: the start-up reconcile succeeded, the state dir and
   *  registry are accepted (checked every STATE_CHECK_MS), and the monitor
   *  runs. False again as soon as one of these stops being true. */
  ready: boolean
  /** The monitor runs and the event loop turned in the last minute. Not a
   *  refused state dir: a restart does not fix that, and the kubelet would
   *  restart the pod in a loop; /readyz and the metrics say it instead. */
  live: boolean
  /** One line: what the agent does, or why it is not ready or not live. */
  why: string
  events: number
  runs: number
}

/** The event loop must turn at least this often for the agent to be live. */
const TICK_MS = 5000
/** Renames kept at most (a host renaming NICs in a loop costs no memory). */
const MAX_RENAMES = 1024
const STALE_MS = 60_000
/** How often the state dir and registry are checked again. */
const STATE_CHECK_MS = 10_000

export class Agent {
  private monitor: ChildProcess | null = null
  private server: Server | null = null
  private readonly metrics: MetricsCache | null
  private ticker: NodeJS.Timeout | null = null
  private stateTicker: NodeJS.Timeout | null = null
  private lastTick = Date.now()
  private runWanted = false
  private stopping = false
  /** The start-up reconcile has run; `reconciled`: it succeeded (else the
   *  next run, an event's or the state check's, tries again). */
  private started = false
  private reconciled = false
  /** Why the state dir or registry is refused; null: accepted. */
  private stateProblem: string | null = null
  private lastReconcileMs: number | null = null
  private monitorExit: string | null = null
  private events = 0
  private readonly byAction = { add: 0, move: 0, remove: 0 }
  private runs = 0
  private readonly runResults = { ok: 0, failed: 0 }
  /** Renames seen on the host in the last HAND_OVER_MS: a departure soon
   *  after one is a mover's hand-over (plan/handover.ts). */
  private renames: HostRename[] = []
  private done!: (code: number) => void
  /** Resolves with the exit status when the agent stops. */
  readonly finished = new Promise<number>((resolve) => (this.done = resolve))

  constructor(private readonly opts: AgentOptions) {
    const nics = opts.metrics
    // The agent's own families come even when the NICs' cannot be read (a
    // refused registry): nicback_agent_ready 0 is what an alert needs then.
    this.metrics =
      opts.listen && nics
        ? new MetricsCache(async (signal) => {
            const text = await nics(signal).catch((err: Error) => `# the NICs' metrics cannot be read: ${err.message.replace(/\s+/g, ' ')}\n`)
            return text + formatAgentMetrics(await this.facts())
          })
        : null
  }

  /** What only the agent knows of itself, for its metric families. */
  private async facts(): Promise<AgentFacts> {
    return {
      version: VERSION,
      node: nodeName(process.env.NICBACK_NODE_NAME) ?? hostname(),
      ready: this.state().ready,
      lastReconcileSeconds: this.lastReconcileMs === null ? null : this.lastReconcileMs / 1000,
      events: { ...this.byAction },
      runs: { ...this.runResults },
      process: await readProcessFacts(),
    }
  }

  /** Whether the state dir and registry are accepted, as every restore
   *  checks them; a refusal is logged when it starts and when it ends. */
  private checkState(retry = false): void {
    let problem: string | null = null
    try {
      loadRegistry()
    } catch (err) {
      problem = (err as Error).message
    }
    if (problem !== this.stateProblem) {
      if (problem !== null) log.error(`not ready: ${problem}`, { event: 'not_ready', cause: problem })
      else log.info('ready: the state directory and registry are accepted again', { event: 'ready' })
    }
    this.stateProblem = problem
    // A reconcile that failed (on the state dir, say) runs again once it is fixed.
    if (retry && problem === null && this.started && !this.reconciled && !this.runWanted) this.restoreRun('start-up reconcile, again')
  }

  state(): AgentState {
    const stale = Date.now() - this.lastTick > STALE_MS
    const live = this.monitorExit === null && !stale
    const notReady = this.stateProblem ?? (!this.started ? 'starting: bringing home what came back while nobody watched' : !this.reconciled ? 'the start-up reconcile failed: see the log; it runs again with the next event' : null)
    const why = this.monitorExit ?? (stale ? `the event loop has not turned for ${Math.round((Date.now() - this.lastTick) / 1000)} s` : (notReady ?? 'watching'))
    return { ready: live && notReady === null, live, why, events: this.events, runs: this.runs }
  }

  async start(): Promise<void> {
    if (this.opts.listen) await this.serve(this.opts.listen)
    await this.startMonitor()
    // Listening first, then the reconcile: a NIC back in between is seen by
    // one of the two.
    this.checkState()
    this.recordNew()
    this.restoreRun('start-up reconcile')
    this.started = true
    this.ticker = setInterval(() => (this.lastTick = Date.now()), TICK_MS)
    this.stateTicker = setInterval(() => this.checkState(true), STATE_CHECK_MS)
    log.info(`watching udev events for NICs coming back${this.opts.listen ? `; /metrics, /healthz and /readyz on ${this.opts.listen.host}:${this.opts.listen.port}` : ''}`, {
      event: 'watching',
      listen: this.opts.listen ? `${this.opts.listen.host}:${this.opts.listen.port}` : undefined,
    })
    flushSyslog()
  }

  /** On start: the NICs home with no record are recorded, and those away
   *  with no record (they left before nicback ran here) are written down, so
   *  that status shows them and their return is recognised. Recorded NICs
   *  are left as they are: one under another name is the reconcile's. */
  private recordNew(): void {
    if (this.stateProblem !== null) return
    try {
      const r = nicsRecorded({ names: [], force: false, boot: false, onlyNew: true })
      if (r.recorded.length > 0 || r.away.length > 0)
        log.info(`recorded ${r.recorded.map((x) => x.name).join(', ') || 'no NIC'}; ${r.away.length} NIC(s) away with no record written down${r.away.length > 0 ? ` (${r.away.map((a) => `${a.identity} in ${a.where}`).join(', ')})` : ''}`, {
          event: 'recorded',
          nics: r.recorded.map((x) => x.name),
          away: r.away.length,
        })
    } catch (err) {
      log.warn(`recording the NICs at start failed: ${errorText(err)}; the reconcile goes on`, toFields(err))
    }
  }

  /** SIGTERM: no new run starts; the one in progress has finished (runs are
   *  synchronous, signals are handled between them), so the lock is free. */
  stop(code = 0): void {
    if (this.stopping) return
    this.stopping = true
    if (this.ticker) clearInterval(this.ticker)
    if (this.stateTicker) clearInterval(this.stateTicker)
    this.metrics?.close()
    this.monitor?.kill('SIGTERM')
    this.server?.close()
    this.server?.closeAllConnections()
    log.info(`stopped after ${this.events} events and ${this.runs} restore runs`, { event: 'stopped', events: this.events, runs: this.runs })
    flushSyslog()
    this.done(code)
  }

  private startMonitor(): Promise<void> {
    const argv = this.opts.monitorArgv ?? [which('udevadm'), 'monitor', '--udev', '--property', '--subsystem-match=net']
    // In a pod with hostPID, /proc/1 is the node's init, whose root is not
    // the container's: systemd's tools then think they run in a chroot and
    // udevadm monitor exits at once ("Running in chroot, ignoring request").
    // It does listen to the netlink socket all the same, so tell it so.
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SYSTEMD_IGNORE_CHROOT: '1' } })
    this.monitor = child
    const stream = new MonitorStream()
    let stderr = ''
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)))
    return new Promise<void>((resolve, reject) => {
      let listening = false
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        // udevadm prints its banner once its socket is bound
        if (!listening) {
          listening = true
          resolve()
        }
        for (const item of stream.push(chunk)) {
          if ('dropped' in item) log.warn(`dropped a udev event: ${item.dropped}`, { cause: item.dropped })
          else this.onEvent(item.event)
        }
      })
      child.on('error', (err) => reject(nicbackError('failed', 'watch udev events', `cannot start ${argv[0]}: ${err.message}`, { fix: 'install udev (udevadm), or run the agent where /run/udev is mounted' })))
      child.on('exit', (code, signal) => {
        if (this.stopping) return
        this.monitorExit = `udevadm monitor exited (${signal ?? `status ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`
        log.error(`${this.monitorExit}; nicback watch stops so that its supervisor restarts it`, { cause: this.monitorExit, fix: 'check that /run/udev is mounted and systemd-udevd runs on the host' })
        if (!listening) reject(nicbackError('failed', 'watch udev events', this.monitorExit, { fix: 'check that /run/udev is mounted and systemd-udevd runs on the host' }))
        else this.stop(1)
      })
    })
  }

  private onEvent(env: Record<string, string>): void {
    if (this.stopping) return
    this.events++
    this.metrics?.invalidate()
    const parsed = parseUdevEvent(env)
    if ('ignore' in parsed) {
      if (parsed.ignore !== null) log.warn(parsed.ignore, { cause: parsed.ignore })
      return
    }
    const e = parsed.event
    this.byAction[e.action]++
    try {
      const now = Date.now()
      this.renames = this.renames.filter((r) => now - r.atMs <= HAND_OVER_MS).slice(-MAX_RENAMES)
      if (e.action === 'move' && e.from !== null && !isFallbackName(e.name)) this.renames.push({ from: e.from, to: e.name, ifindex: e.ifindex, bus: e.bus, atMs: now })
      if (dispatchUdevEvent(e, this.opts.lockTimeoutSec, () => this.renames, now, this.runWanted)) {
        // Events that arrive together share one run: it starts once the
        // monitor's pending output has been read.
        this.runWanted = true
        this.metrics?.hold()
        setImmediate(() => this.restoreRun(`udev ${e.action} of ${e.name}`))
      }
    } catch (err) {
      log.error(`udev ${e.action} of ${e.name}: ${errorText(err)}`, { ...toFields(err), nic: e.name, action: e.action })
    }
    flushSyslog()
  }

  private restoreRun(why: string): void {
    this.runWanted = false
    if (this.stopping) return
    this.runs++
    this.metrics?.hold()
    let ok = false
    try {
      const report = nicReturns({ select: { kind: 'returned' }, lockTimeoutSec: this.opts.lockTimeoutSec })
      if (report.steps.length > 0) log.debug(`restore run for ${why}`, { cause: why })
      logReport(report)
      ok = report.ok
      // It ran to its end (a NIC left in conflict is the metrics' to say).
      this.stateProblem = null
      this.reconciled = true
      this.lastReconcileMs = Date.now()
    } catch (err) {
      log.error(`restore run (${why}) failed: ${errorText(err)}`, { ...toFields(err), fix: 'the next event, or "nicback restore", runs it again', run: why })
      // A refused state dir or registry: not ready until the check finds it fixed.
      this.checkState()
    }
    this.runResults[ok ? 'ok' : 'failed']++
    flushSyslog()
    this.metrics?.release()
  }

  private async serve(at: { host: string; port: number }): Promise<void> {
    const metrics = this.metrics
    this.server = await listenPort(at, { health: () => this.state(), metrics: metrics ? () => metrics.get() : undefined })
  }
}
