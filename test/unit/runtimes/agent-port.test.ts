// The resident agent's HTTP port (runtimes/agent-port.ts): the probes answer
// from state in memory, /metrics from the routes' reader, paced (Pacer), and
// nothing but GET/HEAD of the three paths. Served on an ephemeral port of
// 127.0.0.1 (no root).
import type { Server } from 'node:http'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { listenPort, Pacer, PORT_LIMITS, type PortRoutes } from '../../../scripts/lib/runtimes/agent-port.js'

describe('Pacer', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  test('a burst at once, then perSec a second, in order of arrival', async () => {
    const pace = new Pacer(100, 10, () => Date.now())
    const ran: number[] = []
    for (let i = 0; i < 60; i++) pace.run(() => (ran.push(i), true))
    expect(ran).toHaveLength(10)
    await vi.advanceTimersByTimeAsync(200)
    expect(ran.length).toBeGreaterThanOrEqual(29)
    expect(ran.length).toBeLessThanOrEqual(31)
    await vi.advanceTimersByTimeAsync(300)
    expect(ran).toEqual(Array.from({ length: 60 }, (_, i) => i))
    expect(pace.waiting).toBe(0)
  })

  test('a task whose client left costs no turn', async () => {
    const pace = new Pacer(100, 2, () => Date.now())
    const ran: number[] = []
    for (let i = 0; i < 6; i++) pace.run(() => (i % 2 === 0 ? false : (ran.push(i), true)))
    expect(ran).toEqual([1, 3])
    await vi.advanceTimersByTimeAsync(10)
    expect(ran).toEqual([1, 3, 5])
    expect(pace.waiting).toBe(0)
  })
})

describe('listenPort', () => {
  let server: Server | null = null
  afterEach(async () => {
    server?.closeAllConnections()
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
    server = null
  })

  async function serve(routes: PortRoutes): Promise<number> {
    server = await listenPort({ host: '127.0.0.1', port: 0 }, routes)
    return (server.address() as AddressInfo).port
  }

  function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string | undefined; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }))
      })
      req.on('error', reject)
      req.end()
    })
  }

  test('/healthz and /readyz answer from the health state: 200, or 503 with why', async () => {
    let h = { live: true, ready: false, why: 'starting: bringing home what came back while nobody watched' }
    const port = await serve({ health: () => h })
    expect(await get(port, '/healthz')).toEqual({ status: 200, type: 'text/plain; charset=utf-8', body: `${h.why}\n` })
    expect(await get(port, '/readyz')).toMatchObject({ status: 503, body: `${h.why}\n` })
    h = { live: false, ready: false, why: 'udevadm monitor exited (status 1)' }
    expect(await get(port, '/healthz?verbose')).toMatchObject({ status: 503, body: 'udevadm monitor exited (status 1)\n' })
    h = { live: true, ready: true, why: 'watching' }
    expect(await get(port, '/readyz')).toMatchObject({ status: 200, body: 'watching\n' })
  })

  test('/metrics: the text of the reader, as Prometheus text; a reader that fails: 500 with its message', async () => {
    let fail = false
    const port = await serve({ health: () => ({ live: true, ready: true, why: 'watching' }), metrics: async () => (fail ? Promise.reject(new Error('cannot read the registry')) : 'nicback_up 1\n') })
    expect(await get(port, '/metrics')).toEqual({ status: 200, type: 'text/plain; version=0.0.4; charset=utf-8', body: 'nicback_up 1\n' })
    fail = true
    expect(await get(port, '/metrics')).toMatchObject({ status: 500, body: 'cannot read the registry\n' })
  })

  test('other paths, and /metrics without a reader: 404 naming the three; other methods: 405', async () => {
    const port = await serve({ health: () => ({ live: true, ready: true, why: 'watching' }) })
    expect(await get(port, '/')).toMatchObject({ status: 404, body: 'nicback watch serves /metrics, /healthz and /readyz\n' })
    expect(await get(port, '/metrics')).toMatchObject({ status: 404 })
    expect(await get(port, '/healthz', 'POST')).toMatchObject({ status: 405, body: 'GET only\n' })
    expect(await get(port, '/healthz', 'HEAD')).toMatchObject({ status: 200, body: '' })
  })

  test('the limits are set on the server', async () => {
    await serve({ health: () => ({ live: true, ready: true, why: 'watching' }) })
    expect(server!.maxConnections).toBe(PORT_LIMITS.maxConnections)
    expect(server!.keepAliveTimeout).toBe(PORT_LIMITS.keepAliveTimeoutMs)
    expect(server!.headersTimeout).toBe(PORT_LIMITS.headersTimeoutMs)
    expect(server!.requestTimeout).toBe(PORT_LIMITS.requestTimeoutMs)
    expect(server!.timeout).toBe(PORT_LIMITS.idleTimeoutMs)
  })

  test('an address it cannot listen on: says which', async () => {
    const port = await serve({ health: () => ({ live: true, ready: true, why: 'watching' }) })
    await expect(listenPort({ host: '127.0.0.1', port }, { health: () => ({ live: true, ready: true, why: '' }) })).rejects.toThrow(new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`))
  })
})
