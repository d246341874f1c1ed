// `nicback demo` cut short (issue 18): its reader gone (`nicback demo | head`),
// Ctrl-C (SIGINT to the whole process group), SIGTERM to it alone, at every
// step and at random moments: it says nothing, exits 128 + the signal (141
// for the pipe), and leaves neither its namespaces nor its temporary registry.
// One killed outright (SIGKILL) leaves them, and the next demo removes them,
// and nothing else. Colour: bold headings on a terminal only, never with
// NO_COLOR, never into a pipe.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { ensureBuilt, NICBACK, NODE } from './world.js'

beforeAll(ensureBuilt)

const HEADINGS = ['1. A host', '2. nicback records', '3. eth2 is given', '4. The container dies', '5. nicback restore', '6. nicback status']

/** The environment a demo runs in: no NICBACK_* of the tier's. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('NICBACK_') && k !== 'NO_COLOR') e[k] = v
  return { ...e, ...extra }
}

const list = (dir: string) => {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

/** What a demo with this PID left: its netns and its registry's folder. */
function leftovers(pid: number): string[] {
  return [...list('/run/netns').filter((n) => n.startsWith(`nbdemo-${pid}-`)), ...list(tmpdir()).filter((n) => n.startsWith(`nicback-demo-${pid}-`))]
}

interface Demo {
  child: ChildProcess
  pid: number
  /** Resolves once stdout holds `text`. */
  seen(text: string): Promise<void>
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>
}

/** `nicback demo`, its stdout and stderr pipes; `group`: its own process
 *  group, as a shell's job is (Ctrl-C signals the group). */
function startDemo(group = false): Demo {
  const child = spawn(NODE, [NICBACK, 'demo'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'], detached: group })
  let stdout = ''
  let stderr = ''
  const waiting: { text: string; resolve: () => void }[] = []
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
    for (const w of waiting.splice(0))
      if (stdout.includes(w.text)) w.resolve()
      else waiting.push(w)
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })))
  const seen = (text: string) =>
    new Promise<void>((resolve, reject) => {
      if (stdout.includes(text)) return resolve()
      waiting.push({ text, resolve })
      void done.then(() => reject(new Error(`the demo ended before "${text}":\n${stdout}\n${stderr}`)))
    })
  return { child, pid: child.pid!, seen, done }
}

describe('nicback demo, to the end', () => {
  test('into a pipe: exit 0, every step, no escape code, nothing left', async () => {
    const d = startDemo()
    const r = await d.done
    expect(r.code, r.stderr).toBe(0)
    for (const h of HEADINGS) expect(r.stdout).toContain(`\n${h}`)
    expect(r.stdout).toMatch(/^ {2}eth2 +eth2 +home/m)
    expect(r.stdout).not.toContain('\x1b')
    expect(leftovers(d.pid)).toEqual([])
  })

  test('on a terminal: bold headings; with NO_COLOR set, none', () => {
    const onTty = (extra: Record<string, string>) => spawnSync('script', ['-qec', `${NODE} ${NICBACK} demo`, '/dev/null'], { encoding: 'utf8', env: env(extra), timeout: 60_000 })
    const tty = onTty({})
    expect(tty.status, tty.stdout + tty.stderr).toBe(0)
    expect(tty.stdout).toContain('\x1b[1m1. A host')
    const plain = onTty({ NO_COLOR: '1' })
    expect(plain.status, plain.stdout + plain.stderr).toBe(0)
    expect(plain.stdout).toContain('1. A host')
    expect(plain.stdout).not.toContain('\x1b')
  })

  test('--json is refused, not ignored (it would print text)', () => {
    const r = spawnSync(NODE, [NICBACK, 'demo', '--json'], { encoding: 'utf8', env: env() })
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain("Unknown option '--json'")
  })
})

describe('nicback demo, cut short', () => {
  test('its reader gone after the first step (nicback demo | head): quiet, exit 141, nothing left', async () => {
    const d = startDemo()
    await d.seen(HEADINGS[0]!)
    d.child.stdout!.destroy()
    const r = await d.done
    expect(r.stderr).toBe('')
    expect(r.code).toBe(141)
    expect(leftovers(d.pid)).toEqual([])
  })

  for (const [what, sig, group, code] of [
    ['Ctrl-C (SIGINT to its process group)', 'SIGINT', true, 130],
    ['SIGINT to it alone (kill -INT: its step under way runs on)', 'SIGINT', false, 130],
    ['SIGTERM to it alone', 'SIGTERM', false, 143],
  ] as const) {
    test(`${what} after each step: quiet, exit ${code}, nothing left`, async () => {
      for (const h of HEADINGS.slice(0, 5)) {
        const d = startDemo(group)
        await d.seen(h)
        process.kill(group ? -d.pid : d.pid, sig)
        const r = await d.done
        expect(r.stderr, h).toBe('')
        expect(r.code, `${h}: ${r.stdout}`).toBe(code)
        expect(leftovers(d.pid), h).toEqual([])
      }
    }, 300_000)

    test(`${what} at random moments: never anything left`, async () => {
      // Before its handler is in place the signal ends it at once, with
      // nothing made yet; after the end there is nothing to remove.
      for (let i = 0; i < 12; i++) {
        const d = startDemo(group)
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 900))
        try {
          process.kill(group ? -d.pid : d.pid, sig)
        } catch {}
        const r = await d.done
        expect(r.stderr, `run ${i}`).toBe('')
        expect([0, code, null], `run ${i}`).toContain(r.code)
        expect(leftovers(d.pid), `run ${i}`).toEqual([])
      }
    }, 300_000)
  }
})

describe('what a demo killed outright left', () => {
  test('the next demo removes it, and nothing else', async () => {
    // A demo killed with SIGKILL (no clean-up possible) after its second step.
    const killed = startDemo()
    await killed.seen(HEADINGS[1]!)
    killed.child.kill('SIGKILL')
    await killed.done
    // Its children finish the step under way by themselves.
    await new Promise((r) => setTimeout(r, 1500))
    const left = leftovers(killed.pid)
    expect(left.filter((n) => n.startsWith('nbdemo-')).sort()).toEqual(['ctr', 'host', 'wire'].map((n) => `nbdemo-${killed.pid}-${n}`))
    expect(left.filter((n) => n.startsWith('nicback-demo-'))).toHaveLength(1)
    // Not its: a running demo's (a process with "demo" in its command line),
    // a netns and a folder that only look alike.
    const running = spawn(NODE, ['-e', 'setTimeout(() => {}, 60000)', 'demo'], { stdio: 'ignore' })
    const keep = {
      netns: [`nbdemo-${running.pid}-host`, `nbdemo-${killed.pid}-other`, `nbdemo-${killed.pid}`],
      dirs: [`nicback-demo-${killed.pid}-abc`, `nicback-demo-${killed.pid}`, `nicback-demo-${running.pid}-aB3xY9`],
    }
    try {
      for (const ns of keep.netns) expect(spawnSync('ip', ['netns', 'add', ns]).status, ns).toBe(0)
      for (const d of keep.dirs) mkdirSync(join(tmpdir(), d), { mode: 0o700 })
      const next = startDemo()
      const r = await next.done
      expect(r.code, r.stderr).toBe(0)
      expect(leftovers(killed.pid).filter((n) => !keep.netns.includes(n) && !keep.dirs.includes(n))).toEqual([])
      for (const ns of keep.netns) expect(list('/run/netns'), ns).toContain(ns)
      for (const d of keep.dirs) expect(list(tmpdir()), d).toContain(d)
    } finally {
      running.kill()
      for (const ns of keep.netns) spawnSync('ip', ['netns', 'del', ns])
      for (const d of keep.dirs) rmSync(join(tmpdir(), d), { recursive: true, force: true })
      for (const n of leftovers(killed.pid)) {
        if (n.startsWith('nbdemo-')) spawnSync('ip', ['netns', 'del', n])
        else rmSync(join(tmpdir(), n), { recursive: true, force: true })
      }
    }
  }, 120_000)
})
