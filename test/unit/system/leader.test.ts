// The udev front's leadership as node takes it (system/leader.ts): the marks
// the front leaves, taken in SEQNUM order, only once written to the end,
// never through a link or into a FIFO; and the front's descriptor accepted
// only when it is the state dir's private udev-leader.lock itself. (With the
// front itself, udev/nicback-udev-front.sh: test/cli/udev-front.test.ts.)
import { spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, test } from 'vitest'
import { hostRenameMarks, leadershipFromEnv, startTimeOf } from '../../../scripts/lib/system/leader.js'

let dir: string
let state: string
const saved = process.env.NICBACK_STATE_DIR

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nicback-leader-'))
  state = join(dir, 'state')
  spawnSync('mkdir', ['-m', '0700', state])
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
  if (saved === undefined) delete process.env.NICBACK_STATE_DIR
  else process.env.NICBACK_STATE_DIR = saved
})

/** The leader's note (this process's), udev-leading.PID. */
const NOTE = `udev-leading.${process.pid}`
/** This process's start time, as /proc says it (field 22). */
const born = () => readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[19]!

/** A mark as the front writes it (0600, its line ended by a newline). */
const mark = (name: string, text = '') => writeFileSync(join(state, name), text, { mode: 0o600 })
/** The front's descriptor: the state dir's udev-leader.lock, open. */
function frontFd(): number {
  process.env.NICBACK_STATE_DIR = state
  return openSync(join(state, 'udev-leader.lock'), 'a', 0o600)
}

// Moved from test/cli/udev-front.test.ts: they are about leader.ts alone.
test('leadership is refused for a descriptor that is not a private regular file', () => {
  expect(leadershipFromEnv({ NICBACK_LEADER_FD: 'x' })).toBeNull()
  expect(leadershipFromEnv({ NICBACK_LEADER_FD: '999' })).toBeNull()
  const fd = openSync(join(dir, 'open'), 'w', 0o666)
  spawnSync('chmod', ['0666', join(dir, 'open')])
  try {
    expect(leadershipFromEnv({ NICBACK_LEADER_FD: String(fd) })).toBeNull()
  } finally {
    closeSync(fd)
  }
})

test("leadership is refused for a private regular file that is not the state dir's udev-leader.lock itself", () => {
  process.env.NICBACK_STATE_DIR = state
  const other = join(dir, 'elsewhere.lock')
  const fd = openSync(other, 'a', 0o600)
  try {
    expect(leadershipFromEnv({ NICBACK_LEADER_FD: String(fd) })).toBeNull()
    // a link at udev-leader.lock to that file: still not the lock
    spawnSync('ln', ['-s', other, join(state, 'udev-leader.lock')])
    expect(leadershipFromEnv({ NICBACK_LEADER_FD: String(fd) })).toBeNull()
  } finally {
    closeSync(fd)
    delete process.env.NICBACK_STATE_DIR
  }
})

describe('leadershipFromEnv', () => {
  it('not run by the front (no NICBACK_LEADER_FD, or not a small number): no leadership', () => {
    expect(leadershipFromEnv({})).toBeNull()
    expect(leadershipFromEnv({ NICBACK_LEADER_FD: '1234' })).toBeNull()
    expect(leadershipFromEnv({ NICBACK_LEADER_FD: '-1' })).toBeNull()
  })

  it('takeMarks: its own SEQNUM apart from the others; a bare udev-pending (an older front) is another', () => {
    const fd = frontFd()
    const lead = leadershipFromEnv({ NICBACK_LEADER_FD: String(fd), SEQNUM: '8' })
    expect(lead).not.toBeNull()
    mark('udev-pending.8')
    expect(lead!.takeMarks()).toEqual({ own: true, others: false })
    mark('udev-pending')
    expect(lead!.takeMarks()).toEqual({ own: false, others: true })
    mark('udev-pending.9')
    mark('udev-pending.8')
    expect(lead!.takeMarks()).toEqual({ own: true, others: true })
    expect(lead!.takeMarks()).toEqual({ own: false, others: false })
    expect(readdirSync(state).sort()).toEqual(['udev-leader.lock', NOTE])
    lead!.handOver()
  })

  it('takeDepartures: in SEQNUM order (as numbers), with their time; each once; one still being written is left', () => {
    const fd = frontFd()
    const lead = leadershipFromEnv({ NICBACK_LEADER_FD: String(fd), SEQNUM: '1' })!
    mark('udev-departure.10', 'eth4 11 /devices/x/net/eth4\n')
    mark('udev-departure.9', 'eth3 10 /devices/x/net/eth3\n')
    mark('udev-departure.12', 'eth5 12 /devic')
    utimesSync(join(state, 'udev-departure.9'), 1000, 1000)
    const found = lead.takeDepartures()
    expect(found).toEqual([
      { line: 'eth3 10 /devices/x/net/eth3', atMs: 1_000_000 },
      { line: 'eth4 11 /devices/x/net/eth4', atMs: expect.any(Number) },
    ])
    expect(lead.takeDepartures()).toEqual([])
    expect(readdirSync(state).sort()).toEqual(['udev-departure.12', 'udev-leader.lock', NOTE])
    // its writer finishes, and hand-over finds it: the leader goes on
    writeFileSync(join(state, 'udev-departure.12'), 'eth5 12 /devices/x/net/eth5\n')
    expect(lead.handOver()).toBe(true)
    expect(lead.takeDepartures().map((d) => d.line)).toEqual(['eth5 12 /devices/x/net/eth5'])
    expect(lead.handOver()).toBe(false)
  })

  it('a departure mark planted as a link or a FIFO, or that others can write, is removed unread', () => {
    const fd = frontFd()
    const lead = leadershipFromEnv({ NICBACK_LEADER_FD: String(fd) })!
    writeFileSync(join(dir, 'victim'), 'a 1 /d/net/a\n')
    symlinkSync(join(dir, 'victim'), join(state, 'udev-departure.1'))
    spawnSync('mkfifo', [join(state, 'udev-departure.2')])
    mark('udev-departure.3', 'b 2 /d/net/b\n')
    spawnSync('chmod', ['0666', join(state, 'udev-departure.3')])
    expect(lead.takeDepartures()).toEqual([])
    expect(readdirSync(state).sort()).toEqual(['udev-leader.lock', NOTE])
    expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('a 1 /d/net/a\n')
    expect(lead.handOver()).toBe(false)
  })

  it('handOver: nothing left, the lock is let go and nobody leads', () => {
    const fd = frontFd()
    const lead = leadershipFromEnv({ NICBACK_LEADER_FD: String(fd) })!
    expect(lead.handOver()).toBe(false)
  })

  it("the leader's note: its start time under its PID while it leads; notes of dead leaders removed; gone before it lets go, back when it wins again", () => {
    mark('udev-leading.999999999', '1\n')
    mark(NOTE, 'not its start time\n')
    const fd = frontFd()
    const lead = leadershipFromEnv({ NICBACK_LEADER_FD: String(fd) })!
    expect(readdirSync(state).sort()).toEqual(['udev-leader.lock', NOTE])
    expect(readFileSync(join(state, NOTE), 'utf8')).toBe(`${born()}\n`)
    // a mark left while it leads: it lets go, finds it, wins the lock again
    mark('udev-pending.5')
    expect(lead.handOver()).toBe(true)
    expect(existsSync(join(state, NOTE))).toBe(true)
    lead.takeMarks()
    expect(lead.handOver()).toBe(false)
    expect(existsSync(join(state, NOTE))).toBe(false)
  })

  it('its own note, right but writable by others, is written again private', () => {
    mark(NOTE, `${born()}\n`)
    spawnSync('chmod', ['0666', join(state, NOTE)])
    const lead = leadershipFromEnv({ NICBACK_LEADER_FD: String(frontFd()) })!
    expect(statSync(join(state, NOTE)).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(state, NOTE), 'utf8')).toBe(`${born()}\n`)
    lead.handOver()
  })

  it('a note planted as a link is removed, never written through', () => {
    writeFileSync(join(dir, 'victim'), 'x\n')
    symlinkSync(join(dir, 'victim'), join(state, NOTE))
    const lead = leadershipFromEnv({ NICBACK_LEADER_FD: String(frontFd()) })!
    expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('x\n')
    expect(readFileSync(join(state, NOTE), 'utf8')).toBe(`${born()}\n`)
    lead.handOver()
  })
})

describe('startTimeOf', () => {
  it('field 22 of a /proc/PID/stat line, whatever the name holds', () => {
    const rest = Array.from({ length: 30 }, (_, i) => String(i + 4)).join(' ')
    expect(startTimeOf(`42 (node) S ${rest}`)).toBe('22')
    expect(startTimeOf(`42 (a) b (c) ) S ${rest}`)).toBe('22')
    expect(startTimeOf('42 (node) S 1 2')).toBeNull()
    expect(startTimeOf('')).toBeNull()
  })
})

describe('hostRenameMarks', () => {
  it('no state directory: nothing was noted', () => {
    expect(hostRenameMarks(30_000, Date.now(), join(dir, 'missing'))).toEqual([])
  })

  it('the notes within keepMs, oldest SEQNUM first; older ones are removed', () => {
    mark('udev-rename.41', 'b c 27 /d/net/c\n')
    mark('udev-rename.40', 'a b 27 /d/net/b\n')
    mark('udev-rename.39', 'z a 27 /d/net/a\n')
    utimesSync(join(state, 'udev-rename.39'), 100, 100)
    const now = Date.now()
    expect(hostRenameMarks(30_000, now, state).map((m) => m.line)).toEqual(['a b 27 /d/net/b', 'b c 27 /d/net/c'])
    expect(existsSync(join(state, 'udev-rename.39'))).toBe(false)
    expect(hostRenameMarks(30_000, now + 60_000, state)).toEqual([])
    expect(readdirSync(state)).toEqual([])
  })
})
