// Load on `nicback watch`'s port, for `npm run bench` and the hostile tier
// (test/netns/hostile.test.ts, issue 17 items 1 and 2). Run it inside the
// agent's netns; it stops on SIGTERM and prints one JSON line of results.
//
//   node bench/http-load.mjs scrape PORT N [PATH]  N keep-alive clients, each
//       sending GET PATH (default /metrics) again as soon as the answer is in
//       (raw sockets: the load costs this process as little CPU as it can);
//       prints {"requests": answers 200, "errors", "codes": {status or
//       error code: count}}
//   node bench/http-load.mjs probe PORT MS PATH...  every MS ms one GET of
//       each PATH on a new connection, as the kubelet probes; prints
//       {"ms": {PATH: [latency...]}, "failed": {PATH: count}}
//   node bench/http-load.mjs hold PORT N [once]  N connections at once, in
//       turn idle (no byte sent), half-sent (a request line and one header,
//       never the blank line), trickling (a header that never ends, one
//       byte every 500 ms) and kept (one GET /healthz with keep-alive, then
//       nothing); each one the server closes is opened again, or
//       with `once` not, its lifetime noted; prints {"opened",
//       "closedByServer", "openNow", "maxOpen"[, "closedAfterMs": {KIND: [ms]}]}
// A line "ready" goes to stderr once the load is on.
import { connect } from 'node:net'

const [mode, portText, ...rest] = process.argv.slice(2)
const port = Number(portText)
const host = '127.0.0.1'
let stopping = false
const done = []
process.once('SIGTERM', async () => {
  stopping = true
  for (const f of done) await f()
})
const report = (x) => process.stdout.write(`${JSON.stringify(x)}\n`)

/** Reads one HTTP/1.1 answer (Content-Length, or chunked: the code before
 *  issue 17) off a stream of chunks; returns its status and the bytes left
 *  over, or null while it is incomplete. */
function answerEnd(buf) {
  const head = buf.indexOf('\r\n\r\n')
  if (head < 0) return null
  const headers = buf.subarray(0, head).toString('latin1')
  const status = Number(headers.slice(9, 12))
  const m = /\r\ncontent-length: *(\d+)/i.exec(headers)
  let end = head + 4 + Number(m?.[1] ?? 0)
  if (!m && /\r\ntransfer-encoding: *chunked/i.test(headers)) {
    const last = buf.indexOf('\r\n0\r\n\r\n', head)
    if (last < 0) return null
    end = last + 7
  }
  return buf.length >= end ? { status, rest: buf.subarray(end) } : null
}

function scrape(n, path = '/metrics') {
  const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`)
  let requests = 0
  let errors = 0
  const codes = {}
  const client = () => {
    if (stopping) return
    const s = connect(port, host)
    let buf = Buffer.alloc(0)
    s.on('connect', () => s.write(request))
    s.on('data', (d) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d])
      const a = answerEnd(buf)
      if (a === null) return
      buf = a.rest
      if (a.status === 200) requests++
      else {
        errors++
        codes[a.status] = (codes[a.status] ?? 0) + 1
      }
      if (stopping) s.destroy()
      else s.write(request)
    })
    s.on('error', (e) => {
      errors++
      codes[e.code] = (codes[e.code] ?? 0) + 1
    })
    // closed by the server (a cap, a timeout): connect again, a moment later
    s.on('close', () => setTimeout(client, 10))
  }
  for (let i = 0; i < n; i++) client()
  process.stderr.write('ready\n')
  done.push(() => report({ requests, errors, codes }))
}

function probe(every, paths) {
  const ms = Object.fromEntries(paths.map((p) => [p, []]))
  const failed = Object.fromEntries(paths.map((p) => [p, 0]))
  /** Probes sent and not answered yet: failed if still so at the end. */
  const waiting = new Map()
  const once = (path) => {
    const t0 = performance.now()
    const s = connect(port, host)
    let buf = Buffer.alloc(0)
    waiting.set(s, path)
    const end = (ok) => {
      if (!waiting.delete(s)) return
      if (ok) ms[path].push(performance.now() - t0)
      else failed[path]++
      s.destroy()
    }
    s.on('connect', () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`))
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      const a = answerEnd(buf)
      if (a !== null) end(a.status === 200)
    })
    s.on('close', () => end(false))
    s.on('error', () => end(false))
  }
  const timer = setInterval(() => paths.forEach(once), every)
  process.stderr.write('ready\n')
  done.push(async () => {
    clearInterval(timer)
    // the last probes sent get their time to answer
    for (const end = performance.now() + 10_000; waiting.size > 0 && performance.now() < end;) await new Promise((r) => setTimeout(r, 20))
    for (const path of waiting.values()) failed[path]++
    report({ ms, failed })
  })
}

/** The kinds of connection `hold` opens, in turn. */
const KINDS = ['idle', 'half', 'trickle', 'kept']

function hold(n, once) {
  let opened = 0
  let closedByServer = 0
  let maxOpen = 0
  const open = new Set()
  const closedAfterMs = Object.fromEntries(KINDS.map((k) => [k, []]))
  const one = (i) => {
    if (stopping) return
    const kind = KINDS[i % KINDS.length]
    const s = connect(port, host)
    let t0 = 0
    let trickle = null
    opened++
    s.on('connect', () => {
      t0 = performance.now()
      open.add(s)
      maxOpen = Math.max(maxOpen, open.size)
      if (kind === 'half') s.write(`GET /metrics HTTP/1.1\r\nHost: ${host}\r\n`)
      if (kind === 'trickle') {
        // a header that never ends, one byte every half second
        s.write(`GET /metrics HTTP/1.1\r\nX-Slow: `)
        trickle = setInterval(() => s.write('a'), 500)
      }
      // one whole request on a keep-alive connection, then nothing
      if (kind === 'kept') s.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`)
    })
    s.resume() // answers read and dropped: the server's FIN is seen
    s.on('error', () => {})
    s.on('close', () => {
      clearInterval(trickle)
      open.delete(s)
      if (stopping) return
      closedByServer++
      if (once) closedAfterMs[kind].push(t0 === 0 ? 0 : performance.now() - t0)
      else setTimeout(() => one(i), 50)
    })
  }
  for (let i = 0; i < n; i++) one(i)
  process.stderr.write('ready\n')
  done.push(() => report({ opened, closedByServer, openNow: open.size, maxOpen, ...(once ? { closedAfterMs } : {}) }))
}

if (mode === 'scrape') scrape(Number(rest[0]), rest[1])
else if (mode === 'probe') probe(Number(rest[0]), rest.slice(1))
else if (mode === 'hold') hold(Number(rest[0]), rest[1] === 'once')
else {
  process.stderr.write('usage: http-load.mjs scrape PORT N [PATH] | probe PORT MS PATH... | hold PORT N [once]\n')
  process.exit(2)
}
// Results are printed at SIGTERM (alive until then, whatever the sockets
// do); then let the sockets go.
setInterval(() => {}, 60_000)
done.push(() => setTimeout(() => process.exit(0), 50))
