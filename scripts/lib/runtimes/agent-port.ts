// The resident agent's HTTP port: GET /metrics, /healthz, /readyz. With
// hostNetwork it listens on every address of the node, so anyone who can
// reach the node can use it, and the agent has one thread, which restores
// need first (issue 17 items 1 and 2). So:
//   - the probes answer from state in memory, at once;
//   - /metrics answers from a cache (runtimes/metrics-cache.ts), at most
//     METRICS_PER_SEC a second, in order of arrival: a client scraping in a
//     loop waits its turn instead of taking the thread (1000 such clients
//     took a core at ~12,000 answers a second, and the probes waited);
//   - the connections are capped and every stage of one has a short
//     deadline; one request at a time per connection (no pipelining): what
//     the port can hold is bounded by the cap.
// The kubelet's probes and Prometheus send a small request at once, on a
// connection of their own, and read the answer at once.
import type { Server, ServerResponse } from 'node:http'
import { nicbackError } from '../system/errors.js'
import { createRequire } from 'node:module'
import type { Socket } from 'node:net'
import { setFlagsFromString } from 'node:v8'

// Loaded with require, not import: an ES module namespace of node:http reads
// every export, and node 22+'s http.WebSocket is a lazy getter that loads
// undici (measured on node 24: RSS +13 MiB, a fifth of the pod's budget).
const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http')

export const PORT_LIMITS = {
  /** Connections at once; the next ones are closed as soon as accepted. The
   *  issue's load (1000 scrapers in a loop) fits, with room for the probes. */
  maxConnections: 1024,
  /** A request's headers must be in by then, counted from the connection's
   *  start or its last answer, else it is closed: one that sends nothing,
   *  half a request, or a header a byte at a time. */
  headersTimeoutMs: 2000,
  /** The whole request. */
  requestTimeoutMs: 5000,
  /** An idle keep-alive connection after an answer. */
  keepAliveTimeoutMs: 2000,
  /** No byte either way for this long (an answer nobody reads). */
  idleTimeoutMs: 10_000,
  /** How often node looks for connections past the header and request
   *  deadlines (its default, 30 s, would let them live 15 times as long). */
  checkEveryMs: 500,
  /** Header bytes a request may hold (node's default: 16 KiB). */
  maxHeaderBytes: 8192,
  /** /metrics answers a second, all clients together (Prometheus scrapes
   *  every 15 s or so); a full queue (the cap) waits at most ~5 s. */
  metricsPerSec: 200,
  metricsBurst: 20,
} as const

export interface PortRoutes {
  /** Liveness and readiness now. */
  health: () => { live: boolean; ready: boolean; why: string }
  /** The /metrics text (cached: runtimes/metrics-cache.ts). */
  metrics?: () => Promise<string>
}

/** Runs tasks at most `perSec` a second (`burst` at once), in order. A task
 *  that returns false (its client left) costs no turn. */
export class Pacer {
  private readonly queue: (() => boolean)[] = []
  private tokens: number
  private last: number
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly perSec: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst
    this.last = now()
  }

  run(task: () => boolean): void {
    this.queue.push(task)
    this.drain()
  }

  get waiting(): number {
    return this.queue.length
  }

  private drain(): void {
    const now = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSec) / 1000)
    this.last = now
    while (this.queue.length > 0 && this.tokens >= 1) if (this.queue.shift()!()) this.tokens--
    if (this.queue.length > 0 && this.timer === null) {
      this.timer = setTimeout(
        () => {
          this.timer = null
          this.drain()
        },
        Math.ceil(((1 - this.tokens) * 1000) / this.perSec),
      )
    }
  }
}

/** Listens on `at` with PORT_LIMITS; resolves with the server once listening. */
export function listenPort(at: { host: string; port: number }, routes: PortRoutes): Promise<Server> {
  const L = PORT_LIMITS
  // Connections that come and go by the thousand make V8 grow its young
  // generation to 32 MiB, which it then keeps (measured: 10,000 connections
  // attempted, RSS +46 MiB, 32 of them that). Kept at its starting size
  // (2 MiB) the same flood costs +20 MiB. The factor is read each time V8
  // would grow it, so setting it now takes effect.
  setFlagsFromString('--semi-space-growth-factor=1')
  const pace = new Pacer(L.metricsPerSec, L.metricsBurst)
  /** Connections with an answer still to send. */
  const busy = new WeakSet<Socket>()
  // node's own header deadline (headersTimeout) is swept every checkEveryMs
  // and, measured on node 18 and 20, the sweep misses idle and half-sent
  // connections while another one trickles a header: each connection gets
  // a deadline of its own as well.
  const deadlines = new WeakMap<Socket, NodeJS.Timeout>()
  const awaitHeaders = (socket: Socket) => {
    clearTimeout(deadlines.get(socket))
    if (!socket.destroyed)
      deadlines.set(
        socket,
        setTimeout(() => socket.destroy(), L.headersTimeoutMs),
      )
  }
  const send = (res: ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8') => {
    res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }
  const server = createServer({ headersTimeout: L.headersTimeoutMs, requestTimeout: L.requestTimeoutMs, connectionsCheckingInterval: L.checkEveryMs, maxHeaderSize: L.maxHeaderBytes }, (req, res) => {
    const socket = req.socket
    clearTimeout(deadlines.get(socket))
    // A request sent before the last answer (pipelining) would queue
    // answers without bound: neither the kubelet nor Prometheus does that.
    if (busy.has(socket)) return void socket.destroy()
    busy.add(socket)
    const answered = () => {
      if (busy.delete(socket)) awaitHeaders(socket)
    }
    res.once('finish', answered).once('close', answered)
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'GET only\n')
    if (path === '/healthz' || path === '/readyz') {
      const h = routes.health()
      return send(res, (path === '/healthz' ? h.live : h.ready) ? 200 : 503, `${h.why}\n`)
    }
    const metrics = routes.metrics
    if (path !== '/metrics' || metrics === undefined) return send(res, 404, 'nicback watch serves /metrics, /healthz and /readyz\n')
    pace.run(() => {
      if (res.destroyed) return false
      metrics().then(
        (body) => send(res, 200, body, 'text/plain; version=0.0.4; charset=utf-8'),
        (err: Error) => send(res, 500, `${err.message}\n`),
      )
      return true
    })
  })
  server.on('connection', (socket: Socket) => {
    awaitHeaders(socket)
    socket.once('close', () => clearTimeout(deadlines.get(socket)))
  })
  server.maxConnections = L.maxConnections
  server.keepAliveTimeout = L.keepAliveTimeoutMs
  // with no 'timeout' listener, node destroys the idle socket
  server.setTimeout(L.idleTimeoutMs)
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(nicbackError('failed', 'listen for /metrics', `cannot listen on ${at.host}:${at.port}: ${err.message}`)))
    server.listen(at.port, at.host, () => resolve(server))
  })
}
