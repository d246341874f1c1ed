// Guest-side timer for VM scenarios: starts a command (the thing that makes
// NICs come back: `docker rm -f`, `ip netns del`...), then watches sysfs until
// every expected NIC (by MAC) carries its expected name, or a timeout.
// Prints JSON: per MAC the names seen in order, when it was back in the host
// (the kernel's hand-back), when udevd's database first had an entry for it
// (its rules ran, RUN programs start: what nicback waits for), when udevd was
// done with it (it sent out the event of the kernel's last add or move of
// it: rules and RUN programs, systemd-sysctl's among them, all ran; before
// 6.8 a VF comes back as an add and then a move to devN, and udevd starts
// the move only once the add is done) and when it had its final name,
// relative to the command's start.
//
// It follows the kernel's net uevents and udevd's (`udevadm monitor --kernel
// --udev --property`): each kernel add or move says which name an ifindex
// had and when (udevadm's CLOCK_MONOTONIC stamp, so a watcher that reads
// late still times right), each of udevd's that it is done with that event
// (SEQNUM); one sysfs read maps the ifindex to its MAC. A look at every
// device (two sysfs files each) runs at the start, when no uevent came for
// 300 ms (so a look never comes between a late event and the ones after it),
// and at the end. A watcher that looked at every device every 2 ms, before,
// kept one of the guest's two CPUs busy during a 21-VF storm, and nicback's
// leader took 6 s to start instead of 1. Without udevadm it looks every 5 ms.
// --udev-done ends the watch once udevd is done with every expected NIC
// (for a storm with nicback not installed: nothing renames them).
//   node watch.mjs [--timeout MS] [--udev-done] --expect MAC=NAME... -- CMD ARGS...
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'

const args = process.argv.slice(2)
const sep = args.indexOf('--')
const opts = sep < 0 ? args : args.slice(0, sep)
const cmd = sep < 0 ? [] : args.slice(sep + 1)
const expect = new Map()
let timeout = 30_000
let untilUdevDone = false
for (let i = 0; i < opts.length; i++) {
  if (opts[i] === '--udev-done') untilUdevDone = true
  else if (opts[i] === '--expect') {
    const [mac, name] = opts[++i].split('=')
    expect.set(mac.toLowerCase(), name)
  } else if (opts[i] === '--timeout') timeout = Number(opts[++i])
}

function namesByMac() {
  const m = new Map()
  // as bytes: a name that is not UTF-8 is read all the same (shown with U+FFFD)
  for (const raw of readdirSync('/sys/class/net', { encoding: 'buffer' })) {
    const at = (key) => readFileSync(Buffer.concat([Buffer.from('/sys/class/net/'), raw, Buffer.from(`/${key}`)]), 'utf8').trim()
    try {
      m.set(at('address'), { dev: raw.toString('utf8'), ifindex: at('ifindex') })
    } catch {} // renamed between readdir and read
  }
  return m
}

/** `udevadm monitor` on the kernel's net events, once it listens; null
 *  without udevadm. */
async function monitor() {
  const child = spawn('udevadm', ['monitor', '--kernel', '--udev', '--property', '--subsystem-match=net'], { stdio: ['ignore', 'pipe', 'ignore'] })
  child.stdout.setEncoding('utf8')
  const ok = await new Promise((resolve) => {
    let head = ''
    const onData = (d) => {
      head += d
      // printed once the socket listens
      if (/^KERNEL - /m.test(head) && /^UDEV - /m.test(head)) {
        child.stdout.off('data', onData)
        resolve(true)
      }
    }
    child.stdout.on('data', onData)
    child.on('error', () => resolve(false))
    child.on('exit', () => resolve(false))
  })
  return ok ? child : null
}

const mon = await monitor()
const t0 = performance.now()
const t0Usec = process.hrtime.bigint() / 1000n // CLOCK_MONOTONIC, as udevadm's stamps
const nics = new Map([...expect.keys()].map((mac) => [mac, { expected: expect.get(mac), seen: [], backMs: null, udevDbMs: null, udevMs: null, namedMs: null }]))
let cmdMs = null
let cmdStatus = null
let finish
const finished = new Promise((r) => (finish = r))
if (cmd.length > 0) {
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] })
  child.on('exit', (code) => {
    cmdMs = Math.round(performance.now() - t0)
    cmdStatus = code
    check()
  })
}
const ms = () => Math.round(performance.now() - t0)
/** An udevadm stamp ([seconds.micros], CLOCK_MONOTONIC) in ms since the start. */
const sinceT0 = (m) => Math.max(0, Math.round(Number(BigInt(m[1]) * 1000000n + BigInt(m[2]) - t0Usec) / 1000))
/** `mac` had `name` at `at` ms. */
function saw(mac, name, ifindex, at = ms()) {
  const n = nics.get(mac)
  if (n === undefined) return
  if (n.backMs === null) n.backMs = at
  n.ifindex = ifindex
  if (n.seen.at(-1) !== name) n.seen.push(name)
  if (name === n.expected && n.namedMs === null) n.namedMs = at
  if (name !== n.expected) n.namedMs = null
}
/** ifindex -> SEQNUM of the kernel's last add or move of it; ifindex -> the
 *  last of those udevd sent out, and when. */
const kernelSeq = new Map()
const udevDone = new Map()
function check() {
  for (const n of nics.values()) {
    if (n.ifindex === undefined) continue
    if (n.udevDbMs === null && existsSync(`/run/udev/data/n${n.ifindex}`)) n.udevDbMs = ms()
    if (mon === null) {
      n.udevMs = n.udevDbMs // no monitor: the entry is all there is to go by
      continue
    }
    const k = kernelSeq.get(n.ifindex)
    const u = udevDone.get(n.ifindex)
    n.udevMs = k !== undefined && u !== undefined && u.seq >= k ? u.at : null
  }
  const done = [...nics.values()].every((n) => (untilUdevDone ? n.udevMs : n.namedMs) !== null) && (cmd.length === 0 || cmdMs !== null)
  if (done || performance.now() - t0 >= timeout) finish()
}
/** ifindex -> MAC, from every look and event. */
const macOf = new Map()
function look() {
  for (const [mac, dev] of namesByMac()) {
    macOf.set(dev.ifindex, mac)
    saw(mac, dev.dev, dev.ifindex)
  }
  check()
}
const readOr = (path) => {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return null
  }
}
/** One uevent: an add or move says the name its ifindex had then. */
let lastEvent = 0
function onUevent(block) {
  lastEvent = performance.now()
  const lines = block.split('\n')
  const p = Object.fromEntries(lines.filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  if ((p.ACTION !== 'add' && p.ACTION !== 'move') || !p.INTERFACE || !p.IFINDEX) return
  const seq = Number(p.SEQNUM)
  const udevd = /^UDEV {2}\[(\d+)\.(\d{6})\]/.exec(lines.find((l) => l.startsWith('UDEV')) ?? '')
  if (udevd) {
    // udevd is done with this event: rules, database, RUN programs
    if (seq >= (udevDone.get(p.IFINDEX)?.seq ?? 0)) udevDone.set(p.IFINDEX, { seq, at: sinceT0(udevd) })
    check()
    return
  }
  if (seq > (kernelSeq.get(p.IFINDEX) ?? 0)) kernelSeq.set(p.IFINDEX, seq)
  const holder = readOr(`/sys/class/net/${p.INTERFACE}/ifindex`)
  // Before 6.8 an add carries the name the device had in its container; if
  // the host had that name the kernel gave it devN (the move that follows
  // says so): a name another device holds was never this one's.
  if (p.ACTION === 'add' && holder !== null && holder !== p.IFINDEX) return
  // the MAC now, if the name still is this ifindex's (a container may have
  // changed it, nicback may restore it); else the last one known
  let mac = holder === p.IFINDEX ? readOr(`/sys/class/net/${p.INTERFACE}/address`) : null
  if (mac === null) {
    if (!macOf.has(p.IFINDEX)) for (const [m, dev] of namesByMac()) macOf.set(dev.ifindex, m)
    mac = macOf.get(p.IFINDEX) ?? null
  }
  if (mac === null) return
  macOf.set(p.IFINDEX, mac)
  const stamp = /^KERNEL\[(\d+)\.(\d{6})\]/.exec(lines.find((l) => l.startsWith('KERNEL[')) ?? '')
  saw(mac, p.INTERFACE, p.IFINDEX, stamp ? sinceT0(stamp) : ms())
  check()
}
let buf = ''
mon?.stdout.on('data', (d) => {
  buf += d
  let i
  while ((i = buf.indexOf('\n\n')) >= 0) {
    onUevent(buf.slice(0, i))
    buf = buf.slice(i + 2)
  }
})
const timer = setInterval(
  () => {
    if (mon === null || performance.now() - lastEvent >= 300) look()
    else check()
  },
  mon === null ? 5 : 100,
)
look()
await finished
clearInterval(timer)
// Let a late rename show itself: the final names must hold for a moment.
await new Promise((r) => setTimeout(r, 300))
mon?.kill()
const final = namesByMac()
const out = {
  ok: [...nics].every(([mac, n]) => final.get(mac)?.dev === n.expected),
  cmdMs,
  cmdStatus,
  nics: Object.fromEntries([...nics].map(([mac, n]) => [mac, { expected: n.expected, seen: n.seen, backMs: n.backMs, udevDbMs: n.udevDbMs, udevMs: n.udevMs, namedMs: n.namedMs, final: final.get(mac)?.dev ?? null }])),
}
process.stdout.write(`${JSON.stringify(out)}\n`)
process.exit(0)
