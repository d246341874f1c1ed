// Guest-side timer for VM scenarios: starts a command (the thing that makes
// NICs come back: `docker rm -f`, `ip netns del`...), then polls sysfs until
// every expected NIC (by MAC) carries its expected name, or a timeout.
// Prints JSON: per MAC the names seen in order, when it was back in the host
// (the kernel's hand-back) and when it had its final name, relative to the
// command's start. Plain JS: the guest runs it with the shared node.
//   node watch.mjs [--timeout MS] --expect MAC=NAME... -- CMD ARGS...
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'

const args = process.argv.slice(2)
const sep = args.indexOf('--')
const opts = sep < 0 ? args : args.slice(0, sep)
const cmd = sep < 0 ? [] : args.slice(sep + 1)
const expect = new Map()
let timeout = 30_000
for (let i = 0; i < opts.length; i++) {
  if (opts[i] === '--expect') {
    const [mac, name] = opts[++i].split('=')
    expect.set(mac.toLowerCase(), name)
  } else if (opts[i] === '--timeout') timeout = Number(opts[++i])
}

function namesByMac() {
  const m = new Map()
  for (const dev of readdirSync('/sys/class/net')) {
    try {
      m.set(readFileSync(`/sys/class/net/${dev}/address`, 'utf8').trim(), dev)
    } catch {} // renamed between readdir and read
  }
  return m
}

const t0 = performance.now()
const nics = new Map([...expect.keys()].map((mac) => [mac, { expected: expect.get(mac), seen: [], backMs: null, namedMs: null }]))
let cmdMs = null
let cmdStatus = null
if (cmd.length > 0) {
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] })
  child.on('exit', (code) => {
    cmdMs = Math.round(performance.now() - t0)
    cmdStatus = code
  })
}
const ms = () => Math.round(performance.now() - t0)
while (performance.now() - t0 < timeout) {
  const now = namesByMac()
  for (const [mac, n] of nics) {
    const name = now.get(mac)
    if (name === undefined) continue
    if (n.backMs === null) n.backMs = ms()
    if (n.seen.at(-1) !== name) n.seen.push(name)
    if (name === n.expected && n.namedMs === null) n.namedMs = ms()
    if (name !== n.expected) n.namedMs = null
  }
  const done = [...nics.values()].every((n) => n.namedMs !== null) && (cmd.length === 0 || cmdMs !== null)
  if (done) break
  await new Promise((r) => setTimeout(r, 2))
}
// Let a late rename show itself: the final names must hold for a moment.
await new Promise((r) => setTimeout(r, 300))
const final = namesByMac()
const out = {
  ok: [...nics].every(([mac, n]) => final.get(mac) === n.expected),
  cmdMs,
  cmdStatus,
  nics: Object.fromEntries([...nics].map(([mac, n]) => [mac, { ...n, final: final.get(mac) ?? null }])),
}
process.stdout.write(`${JSON.stringify(out)}\n`)
