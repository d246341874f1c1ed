// nicback metrics against real kernel state: two stand-ins lent to a
// container, renamed there and handed back misnamed, then restored; the
// exposition read back with a strict reader of the format (test/promtext.ts),
// the textfile written as node_exporter's collector wants it.
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { parseExposition, valueOf } from '../promtext.js'
import { createWorld, destroyWorlds, ensureBuilt, NICBACK, NODE, type World } from './world.js'

beforeAll(ensureBuilt)
const dirs: string[] = []
afterEach(() => {
  destroyWorlds()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** Four recorded stand-ins; eth1 and eth2 lent, renamed eth0/eth3 inside (names the host
 *  holds) and handed back: both come back as dev<ifindex>. */
function twoMisnamed(): { w: World; back: Record<string, string> } {
  const w = createWorld({ nics: 4 })
  const r = w.nicback(['record', ...w.nics])
  expect(r.code, r.stderr).toBe(0)
  const ctr = w.container()
  w.lend(ctr, ['eth1', 'eth2'], { eth1: 'eth0', eth2: 'eth3' })
  const back = w.handBack(ctr)
  expect(Object.values(back).every((n) => /^dev\d+$/.test(n))).toBe(true)
  return { w, back }
}

function metrics(w: World, args: string[] = []) {
  const r = w.nicback(['metrics', ...args])
  expect(r.code, r.stderr).toBe(0)
  expect(r.stderr).toBe('')
  return parseExposition(r.stdout)
}

describe('nicback metrics', () => {
  test('before and after a restore of 2 misnamed stand-ins: the state gauges, restores_total done 2', () => {
    const { w } = twoMisnamed()
    const before = metrics(w)
    expect(valueOf(before, 'nicback_nics_recorded')).toBe(4)
    expect(valueOf(before, 'nicback_nics', { state: 'home' })).toBe(2)
    expect(valueOf(before, 'nicback_nics', { state: 'returned_misnamed' })).toBe(2)
    expect(valueOf(before, 'nicback_restores_total', { result: 'done' })).toBe(0)

    const r = w.nicback(['restore'])
    expect(r.code, r.stderr).toBe(0)
    expect(w.where()).toEqual(w.allHome())
    const after = metrics(w)
    expect(valueOf(after, 'nicback_nics', { state: 'home' })).toBe(4)
    expect(valueOf(after, 'nicback_nics', { state: 'returned_misnamed' })).toBe(0)
    expect(valueOf(after, 'nicback_restores_total', { result: 'done' })).toBe(2)
    expect(valueOf(after, 'nicback_restores_total', { result: 'failed' })).toBe(0)
    // By hand in a test netns: no event, and udev's database describes the
    // machine's own namespace only, so no return time is observed.
    expect(valueOf(after, 'nicback_return_to_name_seconds_count')).toBe(0)
    // A second run has nothing to do and counts nothing.
    expect(w.nicback(['restore']).code).toBe(0)
    expect(valueOf(metrics(w), 'nicback_restores_total', { result: 'done' })).toBe(2)

    const j = w.nicbackJson<{ nics: Record<string, number>; restores: { done: number } }>(['metrics'])
    expect(j.code).toBe(0)
    expect(j.json.nics.home).toBe(4)
    expect(j.json.restores.done).toBe(2)
  })

  test("a udev add event's USEC_INITIALIZED: the return-to-name histogram observes both NICs the run brings home", () => {
    const { w, back } = twoMisnamed()
    const dev = back.eth1!
    const idx = w.link(dev).ifindex
    const returned = process.hrtime.bigint() / 1000n - 500_000n // half a second ago, on CLOCK_MONOTONIC
    const u = w.nicback(['udev'], { ACTION: 'add', INTERFACE: dev, IFINDEX: String(idx), DEVPATH: `/devices/pci0000:00/0000:00:03.0/net/${dev}`, USEC_INITIALIZED: String(returned) })
    expect(u.code, u.stderr).toBe(0)
    expect(w.where()).toEqual(w.allHome())
    const m = metrics(w)
    expect(valueOf(m, 'nicback_restores_total', { result: 'done' })).toBe(2)
    expect(valueOf(m, 'nicback_return_to_name_seconds_count')).toBe(2)
    expect(valueOf(m, 'nicback_return_to_name_seconds_bucket', { le: '0.25' })).toBe(0)
    expect(valueOf(m, 'nicback_return_to_name_seconds_bucket', { le: '30' })).toBe(2)
    const sum = valueOf(m, 'nicback_return_to_name_seconds_sum')!
    expect(sum).toBeGreaterThan(1)
    expect(sum).toBeLessThan(60)
  })

  test('--textfile DIR: nicback.prom, 0644, every line in the format, never seen half-written, no temporary file left', async () => {
    const { w } = twoMisnamed()
    expect(w.nicback(['restore']).code).toBe(0)
    const dir = mkdtempSync(join(tmpdir(), 'nicback-textfile-'))
    dirs.push(dir)
    const prom = join(dir, 'nicback.prom')

    // Twelve writers at once, and a reader that parses every version it sees.
    const env = { ...process.env, NICBACK_STATE_DIR: w.state }
    const writers = Array.from(
      { length: 12 },
      () =>
        new Promise<number>((resolve, reject) => {
          const c = spawn('ip', ['netns', 'exec', w.host, NODE, NICBACK, 'metrics', '--textfile', dir], { env, stdio: 'ignore' })
          c.on('error', reject)
          c.on('close', (code) => resolve(code ?? -1))
        }),
    )
    let done = false
    let reads = 0
    const reader = (async () => {
      while (!done) {
        let text: string | null = null
        try {
          text = readFileSync(prom, 'utf8')
        } catch {
          // not there yet
        }
        if (text !== null) {
          parseExposition(text)
          reads++
        }
        await new Promise((r) => setImmediate(r))
      }
    })()
    const codes = await Promise.all(writers)
    done = true
    await reader
    expect(codes).toEqual(Array(12).fill(0))
    expect(reads).toBeGreaterThan(0)

    expect(readdirSync(dir)).toEqual(['nicback.prom'])
    expect(statSync(prom).mode & 0o777).toBe(0o644)
    const text = readFileSync(prom, 'utf8')
    for (const line of text.trimEnd().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) nicback_[a-z_]+ .+|nicback_[a-z_]+(\{[a-z_]+="[^"\\\n]*"\})? [0-9.e+-]+|nicback_[a-z_]+\{le="\+Inf"\} \d+)$/)
    const m = parseExposition(text)
    expect(valueOf(m, 'nicback_restores_total', { result: 'done' })).toBe(2)
    expect(valueOf(m, 'nicback_nics', { state: 'home' })).toBe(4)
    // Printing nothing: the file is the output.
    const r = w.nicback(['metrics', '--textfile', dir])
    expect(r).toMatchObject({ code: 0, stdout: '' })
  })

  test('--textfile with a directory that does not exist: exit 2, a clear error, nothing made', () => {
    const w = createWorld({ nics: 1 })
    const missing = join(tmpdir(), `nicback-no-such-dir-${process.pid}`)
    const r = w.nicback(['metrics', '--textfile', missing])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`--textfile ${missing}: no such directory`)
    expect(() => statSync(missing)).toThrow()
  })
})
