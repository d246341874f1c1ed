// The resident agent (runtimes/agent.ts) between its event source and the
// two moments: a udev remove is a departure, add/move events that arrive
// together share one restore run, the start-up reconcile runs first, and
// its readiness says why it is not ready. The moments are replaced (no NIC
// is touched, no lock taken) and the event source is a `sh -c` printing what
// `udevadm monitor --udev --property` prints.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { nicLeaves } from '../../../scripts/lib/moments/leave.js'
import { nicReturns } from '../../../scripts/lib/moments/return.js'
import { needsNothing } from '../../../scripts/lib/moments/udev-event.js'
import { Agent } from '../../../scripts/lib/runtimes/agent.js'
import { useTempStateDir } from '../helpers.js'

vi.mock('../../../scripts/lib/moments/return.js', () => ({
  nicReturns: vi.fn(() => ({ ok: true, steps: [], nics: [] })),
  logReport: vi.fn(),
}))
vi.mock('../../../scripts/lib/moments/leave.js', () => ({
  nicLeaves: vi.fn(() => ({ recordedName: 'eth3', message: '' })),
}))
// Every add/move needs a run here (the real check reads this machine's sysfs).
vi.mock('../../../scripts/lib/moments/udev-event.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../scripts/lib/moments/udev-event.js')>()
  const needsNothing = vi.fn<(name: string, ifindex: number | null) => boolean>(() => false)
  return {
    ...real,
    needsNothing,
    dispatchUdevEvent: vi.fn((...a: Parameters<typeof real.dispatchUdevEvent>) => (a[0].action === 'remove' ? real.dispatchUdevEvent(...a) : !a[4] && !needsNothing(a[0].name, a[0].ifindex))),
  }
})

useTempStateDir()
let dir = ''
let agent: Agent | null = null
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nicback-agent-'))
  vi.mocked(nicReturns).mockClear()
  vi.mocked(nicLeaves).mockClear()
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
})
afterEach(() => {
  agent?.stop()
  agent = null
  vi.restoreAllMocks()
  rmSync(dir, { recursive: true, force: true })
})

const BANNER = 'monitor will print the received events for:\nUDEV - the event which udev sends out after rule processing\n\n'
const BUS = (n: number) => `/devices/pci0000:00/0000:00:0${n}.0/net`
/** One event block as udevadm monitor --property prints it. */
function block(action: string, name: string, n: number, seq: number): string {
  const devpath = `${BUS(n)}/${name}`
  return `UDEV  [1000.${seq}] ${action}     ${devpath} (net)\nACTION=${action}\nDEVPATH=${devpath}\nSUBSYSTEM=net\nINTERFACE=${name}\nIFINDEX=${n + 1}\nSEQNUM=${seq}\n\n`
}

/** An event source that prints the banner, then `events` once the test says go. */
function source(): { argv: string[]; send: (events: string) => void } {
  const events = join(dir, 'events')
  const go = join(dir, 'go')
  return {
    argv: ['sh', '-c', `printf '%s' "$0"; while [ ! -e '${go}' ]; do sleep 0.01; done; cat '${events}'; exec sleep 30`, BANNER],
    send(text) {
      writeFileSync(events, text)
      writeFileSync(go, '')
    },
  }
}

const until = (what: () => boolean) => vi.waitFor(() => expect(what()).toBe(true), { timeout: 5000, interval: 5 })

describe('Agent', () => {
  it('before start: live, not ready, says it is bringing home what came back', () => {
    agent = new Agent({ lockTimeoutSec: 5 })
    expect(agent.state()).toEqual({ ready: false, live: true, why: 'starting: bringing home what came back while nobody watched', events: 0, runs: 0 })
  })

  it('start: the start-up reconcile runs once the monitor listens; then ready and watching', async () => {
    const src = source()
    agent = new Agent({ lockTimeoutSec: 7, monitorArgv: src.argv })
    await agent.start()
    expect(nicReturns).toHaveBeenCalledTimes(1)
    expect(nicReturns).toHaveBeenCalledWith({ select: { kind: 'returned' }, lockTimeoutSec: 7 })
    expect(agent.state()).toMatchObject({ ready: true, live: true, why: 'watching', runs: 1 })
  })

  it('a remove is a departure; add/move events that arrive together share one restore run', async () => {
    const src = source()
    agent = new Agent({ lockTimeoutSec: 7, monitorArgv: src.argv })
    await agent.start()
    src.send(block('remove', 'eth3', 3, 10) + block('add', 'eth1', 4, 11) + block('add', 'eth2', 5, 12))
    await until(() => agent!.state().runs === 2)
    expect(nicLeaves).toHaveBeenCalledTimes(1)
    expect(vi.mocked(nicLeaves).mock.calls[0]).toEqual([{ name: 'eth3', ifindex: 4, bus: '0000:00:03.0', devPort: null, permAddr: null, mac: null, via: 'udev' }, 7])
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(nicReturns).toHaveBeenCalledTimes(2)
    expect(agent.state()).toMatchObject({ ready: true, events: 3, runs: 2 })
  })

  it('an add of a NIC that needs nothing starts no run', async () => {
    vi.mocked(needsNothing).mockReturnValueOnce(true)
    const src = source()
    agent = new Agent({ lockTimeoutSec: 7, monitorArgv: src.argv })
    await agent.start()
    src.send(block('add', 'eth1', 4, 11))
    await until(() => agent!.state().events === 1)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(agent.state().runs).toBe(1)
  })

  it('a start-up reconcile that fails: live, not ready, says so; the next event runs it again', async () => {
    vi.mocked(nicReturns).mockImplementationOnce(() => {
      throw new Error('cannot take the lock')
    })
    const src = source()
    agent = new Agent({ lockTimeoutSec: 7, monitorArgv: src.argv })
    await agent.start()
    expect(agent.state()).toMatchObject({ ready: false, live: true, why: 'the start-up reconcile failed: see the log; it runs again with the next event' })
    src.send(block('move', 'eth1', 4, 11))
    await until(() => agent!.state().ready)
    expect(agent.state()).toMatchObject({ why: 'watching', runs: 2 })
  })

  it('the monitor exits once listening: the agent is no longer live, says why, and stops with 1', async () => {
    const go = join(dir, 'go')
    agent = new Agent({ lockTimeoutSec: 7, monitorArgv: ['sh', '-c', `printf '%s' "$0"; while [ ! -e '${go}' ]; do sleep 0.01; done; echo 'lost the socket' >&2; exit 4`, BANNER] })
    await agent.start()
    writeFileSync(go, '')
    expect(await agent.finished).toBe(1)
    expect(agent.state()).toMatchObject({ live: false, ready: false, why: expect.stringMatching(/^udevadm monitor exited \(status 4\)/) })
  })

  it('a monitor that exits before it listens: start fails, saying why', async () => {
    agent = new Agent({ lockTimeoutSec: 7, monitorArgv: ['sh', '-c', `echo 'lost the socket' >&2; exit 4`] })
    await expect(agent.start()).rejects.toThrow(/^udevadm monitor exited \(status 4\): lost the socket; check that \/run\/udev is mounted/)
  })

  it('a monitor that cannot be started: start fails, saying what to install', async () => {
    agent = new Agent({ lockTimeoutSec: 7, monitorArgv: [join(dir, 'no-udevadm')] })
    await expect(agent.start()).rejects.toThrow(/^cannot start .*no-udevadm: .*; install udev \(udevadm\), or run the agent where \/run\/udev is mounted$/)
  })
})
