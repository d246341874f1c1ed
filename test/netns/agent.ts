// `nicback watch` in a world's host netns, for the netns tier: its events
// come from a file the test writes in the format of `udevadm monitor --udev
// --property` (read by `tail -f`), it serves on 127.0.0.1 there, it logs JSON
// lines. Load on its port comes from bench/http-load.mjs, run in the same
// netns (issue 17). stopAgents() (afterEach) kills what was started here.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NICBACK, NODE, REPO, type World } from './world.js'

const started: ChildProcess[] = []
const dirs: string[] = []

/** The agent's event source in the tests: `tail -f FILE`, which ends
 *  within a second of the agent that started it (`--pid=$PPID`), whatever
 *  signal ends the agent: stopAgents() and the hostile tests SIGKILL it, and
 *  a plain `tail -f` was left running on the machine after the run. */
export function monitorStandIn(events: string): string {
  return JSON.stringify(['sh', '-c', 'exec tail -n +1 -f --pid="$PPID" "$0"', events])
}

export function stopAgents(): void {
  for (const c of started.splice(0)) c.kill('SIGKILL')
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

let seq = 0
/** One event block as `udevadm monitor --udev --property` prints it. */
export function block(action: string, name: string, ifindex: number, slot: number): string {
  const devpath = `/devices/pci0000:00/0000:00:${slot.toString(16).padStart(2, '0')}.0/net/${name}`
  return `UDEV  [${++seq}.000000] ${action.padEnd(8)} ${devpath} (net)\nACTION=${action}\nDEVPATH=${devpath}\nSUBSYSTEM=net\nINTERFACE=${name}\nIFINDEX=${ifindex}\nSEQNUM=${seq}\n\n`
}

export interface Running {
  events: string
  port: number
  /** The agent's own pid (`ip netns exec` execs it). */
  pid: number
  lines: () => Record<string, unknown>[]
  exited: Promise<number | null>
  child: ChildProcess
  /** The argument lines of every `ip` the agent ran (countIp only). */
  ipCalls: () => string[]
  /** A line of /proc/PID/status, in KiB (VmRSS, VmHWM, RssFile: its file-backed part). */
  memKiB: (key: 'VmRSS' | 'VmHWM' | 'RssFile') => number
}

export interface AgentOptions {
  /** Default: a port of this test process's own. */
  port?: number
  /** Every `ip` the agent runs goes through a wrapper that notes its
   *  arguments: /usr/sbin/ip is bind-mounted over in the agent's own mount
   *  namespace (`ip netns exec` makes one), nowhere else. */
  countIp?: boolean
  /** The node that runs the agent, with its flags (default: the tier's). */
  node?: readonly string[]
}

/** The node the image runs the agent on, as /usr/bin/nicback runs it:
 *  deploy/image/build.sh's pinned NODE (version and integrity), x64, from
 *  deploy/npm-node.sh's cache (fetched if missing), the very binary the image
 *  holds, then build.sh's NODE_FLAGS. The agent's memory bound is the
 *  image's. */
export function imageNode(): string[] {
  const build = readFileSync(join(REPO, 'deploy/image/build.sh'), 'utf8')
  const m = /^NODE="(\S+) .*\bx64=(\S+)[ "]/m.exec(build)
  if (m === null) throw new Error('deploy/image/build.sh has no NODE="VERSION x64=INTEGRITY ..." line')
  const flags = /^NODE_FLAGS="([^"$`\\]*)"$/m.exec(build)
  if (flags === null) throw new Error('deploy/image/build.sh has no NODE_FLAGS="..." line')
  const r = spawnSync('bash', [join(REPO, 'deploy/npm-node.sh'), 'x64', m[1]!, m[2]!], { encoding: 'utf8' })
  const path = r.stdout.trim()
  if (r.status !== 0 || path === '') throw new Error(`deploy/npm-node.sh x64 ${m[1]} failed: ${r.stderr}`)
  return [path, ...flags[1]!.split(' ').filter((f) => f !== '')]
}

/** Drops `file`'s pages from the page cache (pages a process maps stay),
 *  as `dd iflag=nocache count=0` does: posix_fadvise DONTNEED on the whole
 *  file. Nothing else of the machine's is touched. */
export function dropFromPageCache(file: string): void {
  const r = spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none'], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`dd iflag=nocache ${file}: ${r.stderr}`)
}

export function startAgent(w: World, opts: AgentOptions = {}): Running {
  const events = join(w.state, '..', `${w.tag}events`)
  writeFileSync(events, 'monitor will print the received events for:\nUDEV - the event which udev sends out after rule processing\n\n')
  w.hostIp('link', 'set', 'lo', 'up')
  const port = opts.port ?? 20000 + (process.pid % 20000)
  const env = { ...process.env, NICBACK_STATE_DIR: w.state, NICBACK_WATCH_MONITOR: monitorStandIn(events) }
  const watch = [...(opts.node ?? [NODE]), NICBACK, 'watch', '--metrics-addr', `127.0.0.1:${port}`, '--log-format', 'json']
  let calls: string | null = null
  let argv = ['netns', 'exec', w.host, ...watch]
  if (opts.countIp) {
    const dir = mkdtempSync(join(tmpdir(), 'nicback-ipcount-'))
    dirs.push(dir)
    calls = join(dir, 'calls')
    writeFileSync(calls, '')
    copyFileSync(realpathSync('/usr/sbin/ip'), join(dir, 'ip.real'))
    writeFileSync(join(dir, 'ip'), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${calls}\nexec ${join(dir, 'ip.real')} "$@"\n`)
    chmodSync(join(dir, 'ip'), 0o755)
    argv = ['netns', 'exec', w.host, 'sh', '-c', 'mount --bind "$0" /usr/sbin/ip && exec "$@"', join(dir, 'ip'), ...watch]
  }
  const child = spawn('ip', argv, { env, stdio: ['ignore', 'ignore', 'pipe'] })
  started.push(child)
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const lines = () =>
    stderr
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>
        } catch {
          return { notJson: l }
        }
      })
  const ipCalls = () =>
    calls === null
      ? []
      : readFileSync(calls, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
  const memKiB = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1])
  return { events, port, pid: child.pid!, lines, exited, child, ipCalls, memKiB }
}

/** GET path on the agent, from inside the host netns: [status, body]. */
export function probe(w: World, a: Running, path: string): [number, string] {
  const r = spawnSync('ip', ['netns', 'exec', w.host, NODE, '-e', `fetch('http://127.0.0.1:${a.port}${path}').then(async (r) => console.log(r.status + ' ' + (await r.text()).trim()), () => console.log('0 refused'))`], { encoding: 'utf8' })
  const m = /^(\d+) ([^]*)$/.exec(r.stdout.trim())
  return [Number(m?.[1] ?? 0), m?.[2] ?? r.stderr]
}

export async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (ok()) return
  throw new Error(`timed out waiting for: ${what}`)
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** `bench/http-load.mjs ARGS...` in the host netns, once its load is on;
 *  stop() ends it and gives its JSON report. */
export async function load<T>(w: World, args: (string | number)[]): Promise<{ stop: () => Promise<T> }> {
  const child = spawn('ip', ['netns', 'exec', w.host, process.execPath, join(REPO, 'bench', 'http-load.mjs'), ...args.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] })
  started.push(child)
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  await new Promise<void>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => /ready/.test(d) && resolve())
    child.once('exit', (code) => reject(new Error(`http-load ${args.join(' ')} exited ${code}`)))
  })
  return {
    stop: () =>
      new Promise<T>((resolve) => {
        child.removeAllListeners('exit')
        child.once('exit', () => resolve(JSON.parse(out) as T))
        child.kill('SIGTERM')
      }),
  }
}
