// The udev front (udev/nicback-udev-front.sh) and the leadership it hands to
// node (scripts/lib/system/leader.ts): when many NICs come back at once one
// process leads, the others leave a mark and exit without starting node, and
// no mark is ever left unseen. (leader.ts alone, without the front:
// test/unit/system/leader.test.ts.)
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, closeSync, existsSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { hostRenameMarks, leadershipFromEnv } from '../../scripts/lib/system/leader.js'
import { checkPrivateDir, ensurePrivateDir } from '../../scripts/lib/system/paths.js'
import { REPO } from './bundle.js'

const FRONT = join(REPO, 'udev/nicback-udev-front.sh')
let dir: string
let state: string
let fakeNode: string
let calls: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nicback-front-'))
  state = join(dir, 'state')
  spawnSync('mkdir', ['-m', '0700', state])
  // nicback has checked it and vouched for it (paths.ts): the lock, sticky
  vouch()
  calls = join(dir, 'calls')
  // Stands in for node: says how it was started and whether fd 9 holds the
  // leader lock (a second flock on the file fails while it does).
  fakeNode = join(dir, 'node')
  // (A lock planted as a link or FIFO it leaves alone: held=planted.)
  writeFileSync(
    fakeNode,
    `#!/bin/sh\nlock="${state}/udev-leader.lock"\nif [ -L "$lock" ] || [ -p "$lock" ]; then held=planted; elif [ ! -e "$lock" ] || flock -n "$lock" true; then held=no; else held=yes; fi\necho "$ACTION leader_fd=\${NICBACK_LEADER_FD:-none} held=$held" >> "${calls}"\n`,
  )
  chmodSync(fakeNode, 0o755)
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

/** What nicback leaves in a state dir it found private: the lock, 01600. */
function vouch(): void {
  writeFileSync(join(state, 'udev-leader.lock'), '', { mode: 0o600 })
  chmodSync(join(state, 'udev-leader.lock'), 0o1600)
}
const front = (action: string, extra: Record<string, string> = {}) => spawnSync('sh', [FRONT, fakeNode], { env: { ACTION: action, NICBACK_STATE_DIR: state, ...extra }, encoding: 'utf8' })
const removeOf = (name: string, seq: number) => ({ INTERFACE: name, IFINDEX: String(seq + 1), DEVPATH: `/devices/pci0000:00/0000:00:0${seq}.0/net/${name}`, SEQNUM: String(seq) })
const callLog = () => (existsSync(calls) ? readFileSync(calls, 'utf8') : '')
const addOf = (seq: number) => ({ SEQNUM: String(seq) })
/** The add/move marks left, by SEQNUM. */
const marks = () =>
  readdirSync(state)
    .filter((f) => f.startsWith('udev-pending'))
    .map((f) => f.replace(/^udev-pending\.?/, ''))
    .sort()

/** Holds the leader lock as another process would: an open file with flock. */
function holdLock(): number {
  const fd = openSync(join(state, 'udev-leader.lock'), 'a', 0o600)
  expect(spawnSync('flock', ['-n', '3'], { stdio: ['ignore', 'ignore', 'ignore', fd] }).status).toBe(0)
  return fd
}

test('no leader: the front marks, then starts node holding the leader lock as fd 9 (the mark is for the leader to take)', () => {
  const r = front('add', addOf(5))
  expect(r.status, r.stderr).toBe(0)
  expect(callLog()).toBe('add leader_fd=9 held=yes\n')
  expect(marks()).toEqual(['5'])
})

test('a leader runs: each front leaves its mark and exits 0 without starting node', () => {
  const fd = holdLock()
  try {
    for (let i = 1; i <= 5; i++) expect(front(i % 2 ? 'add' : 'move', { ...addOf(i), INTERFACE: `dev${i}` }).status).toBe(0)
    expect(callLog()).toBe('')
    expect(marks()).toEqual(['1', '2', '3', '4', '5'])
  } finally {
    closeSync(fd)
  }
})

test('add without a SEQNUM (not run by udev) starts node for that event alone, without leadership or mark', () => {
  const fd = holdLock()
  try {
    expect(front('add').status).toBe(0)
    expect(callLog()).toBe('add leader_fd=none held=yes\n')
    expect(marks()).toEqual([])
  } finally {
    closeSync(fd)
  }
})

test('remove without a SEQNUM starts node for that event alone, without leadership', () => {
  const fd = holdLock()
  try {
    expect(front('remove').status).toBe(0)
    expect(callLog()).toBe('remove leader_fd=none held=yes\n')
  } finally {
    closeSync(fd)
  }
})

test('remove while a leader runs: the departure is written for it, node is not started', () => {
  const fd = holdLock()
  try {
    expect(front('remove', removeOf('eth3', 7)).status).toBe(0)
    expect(front('remove', removeOf('eth4', 9)).status).toBe(0)
    expect(callLog()).toBe('')
    expect(readFileSync(join(state, 'udev-departure.7'), 'utf8')).toBe('eth3 8 /devices/pci0000:00/0000:00:07.0/net/eth3\n')
    expect(marks(), 'a departure is its own mark').toEqual([])
  } finally {
    closeSync(fd)
  }
})

test('a departure file planted before the event is never written through (noclobber): node takes the event', () => {
  writeFileSync(join(dir, 'victim'), 'keep')
  spawnSync('ln', ['-s', join(dir, 'victim'), join(state, 'udev-departure.7')])
  expect(front('remove', removeOf('eth3', 7)).status).toBe(0)
  expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('keep')
  expect(callLog()).toBe('remove leader_fd=none held=no\n')
})

test('no state directory: nothing is recorded, nothing to give back, node is not started', () => {
  rmSync(state, { recursive: true })
  expect(front('add').status).toBe(0)
  expect(callLog()).toBe('')
})

test('the leader sees marks and departures left while it worked, in order, and leaves none behind', () => {
  const fd = holdLock()
  process.env.NICBACK_STATE_DIR = state
  try {
    // the leader's own event (SEQNUM 8) left its mark before it won the lock
    writeFileSync(join(state, 'udev-pending.8'), '')
    const lead = leadershipFromEnv({ NICBACK_LEADER_FD: String(fd), SEQNUM: '8' })
    expect(lead).not.toBeNull()
    expect(lead!.takeMarks()).toEqual({ own: true, others: false })
    expect(lead!.takeDepartures()).toEqual([])
    // NICs leave and come back while the leader works: their fronts mark and go
    expect(front('remove', removeOf('eth4', 10)).status).toBe(0)
    expect(front('remove', removeOf('eth3', 9)).status).toBe(0)
    expect(front('add', addOf(12)).status).toBe(0)
    expect(callLog()).toBe('')
    expect(lead!.takeDepartures().map((d) => d.line)).toEqual(['eth3 10 /devices/pci0000:00/0000:00:09.0/net/eth3', 'eth4 11 /devices/pci0000:00/0000:00:010.0/net/eth4'])
    expect(lead!.takeDepartures()).toEqual([])
    expect(lead!.takeMarks()).toEqual({ own: false, others: true })
    expect(lead!.takeMarks()).toEqual({ own: false, others: false })
    // another one leaves just as the leader finishes: handing over finds
    // its departure and wins the lock again
    expect(front('remove', removeOf('eth5', 11)).status).toBe(0)
    expect(lead!.handOver()).toBe(true)
    expect(lead!.takeDepartures()).toHaveLength(1)
    // nothing more: the leader lets go, and the next event leads itself
    expect(lead!.handOver()).toBe(false)
    expect(front('add', addOf(13)).status).toBe(0)
    expect(callLog()).toBe('add leader_fd=9 held=yes\n')
    expect(marks()).toEqual(['13'])
  } finally {
    delete process.env.NICBACK_STATE_DIR
  }
})

// The leader's note, udev-leading.PID (leader.ts): a front that finds it
// naming a live process leaves its mark and exits without trying the lock.
/** A process's start time, field 22 of /proc/PID/stat. */
const bornOf = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()!.split(' ')[19]!
const note = (pid: number, text: string) => writeFileSync(join(state, `udev-leading.${pid}`), text, { mode: 0o600 })

test("a leader's note naming a live process: the front marks and exits without trying the lock (node is not started, though the lock is free)", () => {
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' })
  try {
    note(sleeper.pid!, `${bornOf(sleeper.pid!)}\n`)
    expect(front('add', addOf(5)).status).toBe(0)
    expect(front('remove', removeOf('eth3', 6)).status).toBe(0)
    expect(callLog()).toBe('')
    expect(marks()).toEqual(['5'])
    expect(readdirSync(state)).toContain('udev-departure.6')
  } finally {
    sleeper.kill()
  }
})

test('a note naming a process that is gone, a PID since reused (another start time), a zombie, or a link: passed over, the front leads', async () => {
  const gone = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim()
  note(Number(gone), '1\n')
  const other = spawn('sleep', ['30'], { stdio: 'ignore' })
  // sh execs into sleep, which never reaps the child that exits: a zombie
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] })
  try {
    const zombie = Number((await new Promise<string>((ok) => parent.stdout!.once('data', (b: Buffer) => ok(b.toString())))).trim())
    note(other.pid!, `${Number(bornOf(other.pid!)) + 1}\n`)
    for (let i = 0; i < 100 && !readFileSync(`/proc/${zombie}/stat`, 'utf8').includes(') Z '); i++) await new Promise((ok) => setTimeout(ok, 20))
    note(zombie, `${bornOf(zombie)}\n`)
    const live = spawn('sleep', ['30'], { stdio: 'ignore' })
    writeFileSync(join(dir, 'born'), `${bornOf(live.pid!)}\n`)
    symlinkSync(join(dir, 'born'), join(state, `udev-leading.${live.pid}`))
    try {
      expect(front('add', addOf(5)).status).toBe(0)
      expect(callLog()).toBe('add leader_fd=9 held=yes\n')
    } finally {
      live.kill()
    }
  } finally {
    other.kill()
    parent.kill()
  }
})

test('the front that wins the lock leaves its note, its PID and start time, which node (the same process) finds', () => {
  const checker = join(dir, 'node-note')
  writeFileSync(checker, `#!/bin/sh\nread -r born < "${state}/udev-leading.$$" && [ "$born" = "$(cut -d')' -f2- /proc/$$/stat | cut -d' ' -f21)" ] && echo note=ok >> "${calls}"\n`)
  chmodSync(checker, 0o755)
  const r = spawnSync('sh', [FRONT, checker], { env: { ACTION: 'add', NICBACK_STATE_DIR: state, ...addOf(5) }, encoding: 'utf8' })
  expect(r.status, r.stderr).toBe(0)
  expect(callLog()).toBe('note=ok\n')
})

// Issue 16: a rename on the host (sriov-cni v2's enp1s0v0 -> temp_27 just
// before it takes the VF) is noted in the shell, for the departure after it.
const VF = '/devices/pci0000:00/0000:00:10.0/0000:01:10.0/net'
const moveOf = (from: string, to: string, seq: number) => ({ INTERFACE: to, IFINDEX: '27', DEVPATH: `${VF}/${to}`, DEVPATH_OLD: `${VF}/${from}`, SEQNUM: String(seq) })

test('a rename on the host into a plain name is only noted: no node, no lock, no add/move mark', () => {
  const t0 = Date.now()
  expect(front('move', moveOf('enp1s0v0', 'temp_27', 40)).status).toBe(0)
  expect(callLog()).toBe('')
  expect(marks()).toEqual([])
  expect(readFileSync(join(state, 'udev-rename.40'), 'utf8')).toBe(`enp1s0v0 temp_27 27 ${VF}/temp_27\n`)
  const noted = hostRenameMarks(30_000, Date.now(), state)
  expect(noted.map((m) => m.line)).toEqual([`enp1s0v0 temp_27 27 ${VF}/temp_27`])
  expect(noted[0]!.atMs).toBeGreaterThanOrEqual(t0 - 1000)
})

test('a move into devN (the kernel handing a NIC back, 6.1) still marks and leads; it notes no rename', () => {
  expect(front('move', moveOf('eth0', 'dev27', 41)).status).toBe(0)
  expect(callLog()).toBe('move leader_fd=9 held=yes\n')
  expect(marks()).toEqual(['41'])
  expect(readdirSync(state).filter((f) => f.startsWith('udev-rename'))).toEqual([])
})

test('rename notes older than the hand-over window are removed when read; a planted link or FIFO is removed unread', () => {
  expect(front('move', moveOf('enp1s0v0', 'temp_27', 42)).status).toBe(0)
  expect(hostRenameMarks(30_000, Date.now() + 60_000, state)).toEqual([])
  expect(existsSync(join(state, 'udev-rename.42'))).toBe(false)
  writeFileSync(join(dir, 'victim'), `a b 27 ${VF}/b\n`)
  spawnSync('ln', ['-s', join(dir, 'victim'), join(state, 'udev-rename.43')])
  spawnSync('mkfifo', [join(state, 'udev-rename.44')])
  expect(hostRenameMarks(30_000, Date.now(), state)).toEqual([])
  expect(readdirSync(state).filter((f) => f.startsWith('udev-rename'))).toEqual([])
  expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe(`a b 27 ${VF}/b\n`)
})

test('a rename note planted before the event is never written through (noclobber)', () => {
  writeFileSync(join(dir, 'victim'), 'keep')
  spawnSync('ln', ['-s', join(dir, 'victim'), join(state, 'udev-rename.45')])
  expect(front('move', moveOf('enp1s0v0', 'temp_27', 45)).status).toBe(0)
  expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('keep')
  expect(callLog()).toBe('')
})

// Issue 17: the front opens nothing through a link and no FIFO.
test('a symlink planted at udev-leader.lock is never followed: its target is not created, node takes the event without leadership', () => {
  const target = join(dir, 'made-by-root')
  rmSync(join(state, 'udev-leader.lock'))
  spawnSync('ln', ['-s', target, join(state, 'udev-leader.lock')])
  for (const [action, env] of [
    ['add', addOf(5)],
    ['remove', removeOf('eth3', 6)],
  ] as const) {
    const r = front(action, env)
    expect(r.status, r.stderr).toBe(0)
    expect(existsSync(target), `${action}: root created the link's target`).toBe(false)
  }
  expect(callLog()).toBe('add leader_fd=none held=planted\nremove leader_fd=none held=planted\n')
})

test('a FIFO planted at udev-leader.lock never blocks the front: node takes the event without leadership', () => {
  rmSync(join(state, 'udev-leader.lock'))
  expect(spawnSync('mkfifo', [join(state, 'udev-leader.lock')]).status).toBe(0)
  const r = spawnSync('sh', [FRONT, fakeNode], { env: { ACTION: 'add', NICBACK_STATE_DIR: state, ...addOf(5) }, encoding: 'utf8', timeout: 10_000 })
  expect(r.signal, 'the front blocked on the FIFO').toBeNull()
  expect(r.status).toBe(0)
  expect(callLog()).toBe('add leader_fd=none held=planted\n')
})

test("a FIFO planted at a mark's name (udev-departure.SEQNUM, udev-pending.SEQNUM) never blocks the front: node takes the event", () => {
  spawnSync('mkfifo', [join(state, 'udev-departure.7'), join(state, 'udev-pending.8')])
  for (const [action, env] of [
    ['remove', removeOf('eth3', 7)],
    ['add', addOf(8)],
  ] as const) {
    const r = spawnSync('sh', [FRONT, fakeNode], { env: { ACTION: action, NICBACK_STATE_DIR: state, ...env }, encoding: 'utf8', timeout: 10_000 })
    expect(r.signal, `${action}: the front blocked on the FIFO`).toBeNull()
    expect(r.status).toBe(0)
  }
  expect(callLog()).toBe('remove leader_fd=none held=no\nadd leader_fd=none held=no\n')
})

test('a state dir others can write is refused as node refuses it: the front writes nothing there and hands every event to node', () => {
  rmSync(join(state, 'udev-leader.lock'))
  for (const mode of [0o777, 0o770, 0o1777]) {
    chmodSync(state, mode)
    for (const [action, env] of [
      ['add', addOf(5)],
      ['remove', removeOf('eth3', 6)],
      ['move', moveOf('enp1s0v0', 'dev27', 7)],
    ] as const) {
      expect(front(action, env).status).toBe(0)
    }
    expect(readdirSync(state), `mode ${mode.toString(8)}: the front wrote there`).toEqual([])
  }
  expect(callLog()).toBe('add leader_fd=none held=no\nremove leader_fd=none held=no\nmove leader_fd=none held=no\n'.repeat(3))
})

test('nicback vouches for a private state dir (the lock, sticky) and takes it back once others can write it', () => {
  rmSync(join(state, 'udev-leader.lock'))
  ensurePrivateDir(state)
  expect(statSync(join(state, 'udev-leader.lock')).mode & 0o7777).toBe(0o1600)
  expect(front('add', addOf(5)).status).toBe(0)
  expect(callLog()).toBe('add leader_fd=9 held=yes\n')
  chmodSync(state, 0o777)
  expect(() => checkPrivateDir(state)).toThrow(expect.objectContaining({ code: 'state_dir' }))
  expect(existsSync(join(state, 'udev-leader.lock'))).toBe(false)
  expect(front('add', addOf(6)).status).toBe(0)
  expect(callLog()).toBe('add leader_fd=9 held=yes\nadd leader_fd=none held=no\n')
  expect(() => lstatSync(join(state, 'udev-pending.6'))).toThrow()
})
