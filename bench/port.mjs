// `npm run bench`, the agent's port (issue 17 items 1 and 2): `nicback
// watch` in a throwaway netns, its events from a file (as in the netns tier),
// load from bench/http-load.mjs run in the same netns.
//   - a NIC's restore (its add event written -> the agent's "restored" log
//     line) without load, and while 1000 clients scrape /metrics in a loop,
//     interleaved in phases; /healthz and /readyz probed every 50 ms on a new
//     connection (as the kubelet does) during the flood;
//   - the agent's RSS while 10,000 connections are attempted (idle and
//     half-sent, each reopened when the agent closes it), and restores then.
// Run alone (`node bench/port.mjs`) it prints its figures as JSON;
// BENCH_NICBACK points it at another build (the code before the fix).
import { spawn } from 'node:child_process'
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpus, release } from 'node:os'
import { cleanEnv, NICBACK, NODE, REPO, sendBack, sh, tempDir, world } from './world.mjs'

const LOAD = join(REPO, 'bench', 'http-load.mjs')
const SCRAPERS = 1000
const HELD = 10_000
/** Probes alone (no restore) in each phase. */
const PROBE_MS = 5000
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b)
  const pos = (s.length - 1) * q
  const lo = Math.floor(pos)
  return s[lo] + (s[Math.ceil(pos)] - s[lo]) * (pos - lo)
}

let seq = 0
/** One event as `udevadm monitor --udev --property` prints it. */
function addEvent(name, ifindex) {
  const devpath = `/devices/pci0000:00/0000:00:1f.6/net/${name}`
  seq++
  return `UDEV  [${seq}.000000] add      ${devpath} (net)\nACTION=add\nDEVPATH=${devpath}\nSUBSYSTEM=net\nINTERFACE=${name}\nIFINDEX=${ifindex}\nSEQNUM=${seq}\n\n`
}

/** `nicback watch` in w's host netns; resolves once it watches. */
async function startAgent(w, port) {
  const events = join(tempDir('nicback-bench-events-'), 'events')
  writeFileSync(events, 'monitor will print the received events for:\nUDEV - the event which udev sends out after rule processing\n\n')
  const env = { ...cleanEnv(), NICBACK_STATE_DIR: w.state, NICBACK_WATCH_MONITOR: JSON.stringify(['tail', '-n', '+1', '-f', events]) }
  // ip netns exec execs: the child's pid is the agent's
  const child = spawn('ip', ['netns', 'exec', w.host, NODE, NICBACK, 'watch', '--metrics-addr', `127.0.0.1:${port}`, '--log-format', 'json'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
  const waiters = []
  let partial = ''
  child.stderr.setEncoding('utf8').on('data', (d) => {
    const lines = (partial + d).split('\n')
    partial = lines.pop()
    for (const l of lines) {
      let j
      try {
        j = JSON.parse(l)
      } catch {
        continue
      }
      for (const wt of [...waiters])
        if (wt.test(j)) {
          waiters.splice(waiters.indexOf(wt), 1)
          wt.resolve(performance.now())
        }
    }
  })
  const until = (test, ms = 60_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the agent did not log what was waited for')), ms)
      waiters.push({ test, resolve: (t) => (clearTimeout(timer), resolve(t)) })
    })
  child.once('exit', (code) => {
    if (!child.stopping) throw new Error(`the agent exited (${code})`)
  })
  await until((j) => /^watching udev events/.test(j.msg))
  return {
    pid: child.pid,
    /** ms from eth2's add event to the agent's "restored eth2". */
    async restore() {
      sendBack(w, ['eth2'])
      const done = until((j) => j.nic === 'eth2' && /^restored /.test(j.msg))
      const t0 = performance.now()
      appendFileSync(events, addEvent(`dev${w.ifindex.eth2}`, w.ifindex.eth2))
      return (await done) - t0
    },
    rssKiB: (key = 'VmRSS') => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]),
    stop() {
      child.stopping = true
      child.kill('SIGTERM')
      return new Promise((r) => child.once('exit', r))
    },
  }
}

/** bench/http-load.mjs MODE ARGS in the host netns, once its load is on. */
async function load(w, args) {
  const child = spawn('ip', ['netns', 'exec', w.host, NODE, LOAD, ...args.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d))
  await new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d) => /ready/.test(d) && resolve())
    child.once('exit', (code) => reject(new Error(`http-load ${args.join(' ')} exited ${code}`)))
  })
  return {
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit')
        child.once('exit', () => resolve(JSON.parse(out)))
        child.kill('SIGTERM')
      }),
  }
}

/** The figures: restore ms without and with the flood, probe ms, RSS. */
export async function benchPort({ rounds = 20, log = (s) => process.stderr.write(s) } = {}) {
  const w = world('port', 4)
  sh('ip', ['-n', w.host, 'link', 'set', 'lo', 'up'])
  const port = 9465
  return { ...(await scrapeFlood(w, port, rounds, log)), held: await heldConnections(w, port, log) }
}

/** Restores without and with 1000 scrapers, in phases quiet, flood, quiet,
 *  flood (machine noise spreads over both). The probes run in every phase:
 *  first PROBE_MS alone, then while the restores run. */
async function scrapeFlood(w, port, rounds, log) {
  if (rounds === 0) return {}
  const agent = await startAgent(w, port)
  for (let i = 0; i < 3; i++) await agent.restore() // warm-up
  const restores = { quiet: [], flood: [] }
  /** Probe ms by phase kind and window: alone, or while restores run. */
  const probes = { quiet: { alone: [], restoring: [] }, flood: { alone: [], restoring: [] } }
  let failed = 0
  let scrapes = 0
  let scrapeMs = 0
  const probing = async (into, during) => {
    const prober = await load(w, ['probe', port, 50, '/healthz', '/readyz'])
    await during()
    const p = await prober.stop()
    into.push(...p.ms['/healthz'], ...p.ms['/readyz'])
    failed += p.failed['/healthz'] + p.failed['/readyz']
  }
  for (let phase = 0; phase < 4; phase++) {
    const kind = phase % 2 === 1 ? 'flood' : 'quiet'
    const scrapers = kind === 'flood' ? await load(w, ['scrape', port, SCRAPERS]) : null
    const t0 = performance.now()
    if (scrapers) await sleep(2000) // every client connected and in its loop
    await probing(probes[kind].alone, () => sleep(PROBE_MS))
    await probing(probes[kind].restoring, async () => {
      for (let i = 0; i < rounds / 2; i++) {
        restores[kind].push(await agent.restore())
        await sleep(200)
        log(`\rbench: the agent's port, phase ${phase + 1}/4 (${kind}), restore ${i + 1}/${rounds / 2}   `)
      }
    })
    if (scrapers) {
      scrapes += (await scrapers.stop()).requests
      scrapeMs += performance.now() - t0
    }
  }
  await agent.stop()
  const med = (xs) => quantile(xs, 0.5)
  const stats = (xs) => ({ p50: med(xs), p99: quantile(xs, 0.99), max: Math.max(...xs), n: xs.length })
  return {
    scrapers: SCRAPERS,
    restoreMs: { quiet: med(restores.quiet), flood: med(restores.flood), quietP90: quantile(restores.quiet, 0.9), floodP90: quantile(restores.flood, 0.9), n: restores.quiet.length },
    ratio: med(restores.flood) / med(restores.quiet),
    probeMs: { flood: stats(probes.flood.alone), floodRestoring: stats(probes.flood.restoring), quiet: stats(probes.quiet.alone), quietRestoring: stats(probes.quiet.restoring), failed },
    scrapesPerSec: scrapes / (scrapeMs / 1000),
  }
}

/** A fresh agent (its peak RSS is this phase's alone): 10,000 connections,
 *  and restores meanwhile. */
async function heldConnections(w, port, log) {
  const agent = await startAgent(w, port)
  await agent.restore()
  const idleKiB = agent.rssKiB()
  const holder = await load(w, ['hold', port, HELD])
  let peakKiB = idleKiB
  const sampler = setInterval(() => (peakKiB = Math.max(peakKiB, agent.rssKiB())), 50)
  const held = []
  for (let i = 0; i < 5; i++) {
    await sleep(1500)
    held.push(await agent.restore())
    log(`\rbench: the agent's port, 10,000 connections, restore ${i + 1}/5   `)
  }
  clearInterval(sampler)
  const hold = await holder.stop()
  const hwmKiB = agent.rssKiB('VmHWM')
  await agent.stop()
  log('\n')
  return { attempted: HELD, ...hold, idleMiB: idleKiB / 1024, peakMiB: Math.max(peakKiB, hwmKiB) / 1024, restoreMs: quantile(held, 0.5), restoreMaxMs: Math.max(...held) }
}

/** The section of bench/results.md: its heading starts the section. */
export const PORT_HEADING = "## The agent's port (issue 17)"

export function portMarkdown(r, load0, load1) {
  const f = (x) => x.toFixed(1)
  const met = (ok) => (ok ? 'met' : 'MISSED')
  const p = r.probeMs
  const row = (label, s) => `| ${label} | ${f(s.p50)} | ${f(s.p99)} | ${f(s.max)} | ${s.n} |`
  const h = r.held
  return `${PORT_HEADING}

${new Date().toISOString().slice(0, 10)}, node ${process.version}, kernel ${release()}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? 'unknown'}), load average ${load0.toFixed(1)} -> ${load1.toFixed(1)} (\`bench/port.mjs\`).
\`nicback watch\` in a netns of its own, its events from a file (as in the netns tier), load from \`bench/http-load.mjs\` in the same netns.
A returned NIC's restore is timed from its \`add\` event written to the agent's "restored" log line, ${r.restoreMs.n} times without load and ${r.restoreMs.n} times
while ${r.scrapers} clients scrape \`/metrics\` in a loop (keep-alive, each sending its next request as soon as its answer is in), in phases quiet, flood,
quiet, flood; in every phase \`/healthz\` and \`/readyz\` are probed every 50 ms each on a new connection (as the kubelet does), 5 s alone, then
while the restores run (one every ~0.25 s).

| restore, ms | median | p90 |
| --- | ---: | ---: |
| without load | ${f(r.restoreMs.quiet)} | ${f(r.restoreMs.quietP90)} |
| ${r.scrapers} scrapers | ${f(r.restoreMs.flood)} | ${f(r.restoreMs.floodP90)} |

| probes (\`/healthz\` and \`/readyz\`), ms | p50 | p99 | max | n |
| --- | ---: | ---: | ---: | ---: |
${row('without load', p.quiet)}
${row('without load, restores running', p.quietRestoring)}
${row(`${r.scrapers} scrapers`, p.flood)}
${row(`${r.scrapers} scrapers, restores running`, p.floodRestoring)}

Scrape flood (item 1): restore with ${r.scrapers} scrapers / without = **${r.ratio.toFixed(2)}x** (medians; target <= 1.5x: ${met(r.ratio <= 1.5)});
\`/healthz\` and \`/readyz\` p99 with ${r.scrapers} scrapers = **${f(p.flood.p99)} ms** (target < 100 ms: ${met(p.flood.p99 < 100)}; ${f(p.floodRestoring.p99)} ms while restores run,
which come first: a probe waits for the run in progress); ${p.failed} probe(s) unanswered. The agent answered ${Math.round(r.scrapesPerSec)} scrapes a second
(\`/metrics\` answers are paced; the text is read at most once a second, never per scrape).

Idle connections (item 2): ${h.attempted.toLocaleString('en')} connections attempted at once (in turn idle, half-sent, a header trickled a byte every 500 ms, and an idle
keep-alive after one answer; each reopened 50 ms after the agent closes it, ${h.opened.toLocaleString('en')} opened in ~7.5 s, ${h.closedByServer.toLocaleString('en')} closed by the agent):
the agent's RSS **${f(h.idleMiB)} MiB idle -> peak ${f(h.peakMiB)} MiB** (target < 80 MiB: ${met(h.peakMiB < 80)}); a returned NIC's restore meanwhile
${f(h.restoreMs)} ms (median of 5, max ${f(h.restoreMaxMs)} ms).
`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchPort({ rounds: Number(process.env.BENCH_PORT_N ?? 20) })
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`)
  process.exit(0)
}
