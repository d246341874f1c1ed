// The udev front's leadership (udev/nicback-udev-front.sh): every event
// leaves a mark named by its SEQNUM (udev-pending.SEQNUM for a NIC that may
// be back, udev-departure.SEQNUM for one that left), then tries the flock on
// udev-leader.lock once; the one that wins execs node holding it as fd
// NICBACK_LEADER_FD, the others exit. The leader takes the marks before each
// round (so a mark left during a round asks for one more), lets go of the
// lock when none is left, then looks once more: a mark left after that was
// left by a process whose try of the lock comes later, and leads.
//
// While it leads, a note says so: udev-leading.PID, holding the process's
// start time (field 22 of /proc/PID/stat), which the front writes as it wins
// the lock (node keeps its PID). A front that finds the note naming a live
// process (not a zombie) after leaving its mark exits without trying the
// lock: one flock(1) less per event of a storm (~0.04 s under emulation,
// issue 21). The leader removes its note before it lets go of the lock, and
// looks for marks after that: a front that read the note read it before,
// so its mark is seen. A leader killed leaves a note naming a dead process
// (or, its PID reused, another start time): fronts ignore it and try the
// lock, and the next leader removes it.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { tryLock, type Lock } from './lock.js'
import { FRONT_LOCK, LEADING_NOTE, privateProblem, stateDir } from './paths.js'

export interface Leadership {
  /** Removes the add/move marks: whether the leader's own event left one,
   *  and whether other events did. */
  takeMarks(): { own: boolean; others: boolean }
  /** The departures written so far, oldest first, as the front wrote them
   *  ("NAME IFINDEX DEVPATH") with when; each is removed once read. */
  takeDepartures(): Mark[]
  /** Lets go of the lock; true if a mark is left and the lock was won
   *  again (go on leading), false if done or another process leads now. */
  handOver(): boolean
}

const DEPARTURE = /^udev-departure\.(\d{1,20})$/
const RENAME = /^udev-rename\.(\d{1,20})$/
/** udev-pending.SEQNUM; a bare udev-pending is what the front wrote before
 *  marks had SEQNUMs (an event in flight during an upgrade). */
const PENDING = /^udev-pending(?:\.(\d{1,20}))?$/

/** The add/move marks in the state directory: name and SEQNUM ('' for the
 *  old bare mark). */
function pendingMarks(dir: string): { path: string; seq: string }[] {
  return readdirSync(dir).flatMap((f) => {
    const m = PENDING.exec(f)
    return m ? [{ path: join(dir, f), seq: m[1] ?? '' }] : []
  })
}

/** A mark file the front has finished writing: its line, and when (its
 *  mtime, in ms since the epoch). */
export interface Mark {
  line: string
  atMs: number
}

/** The mark files named `kind`.SEQNUM that the front has finished writing,
 *  oldest first. One still being written (no newline yet) is left: its
 *  writer goes on to try the lock, and leads if this leader has let go by
 *  then. A mark that is not a private regular file is removed unread. */
function marksOf(dir: string, kind: RegExp): (Mark & { path: string })[] {
  const files: (Mark & { seq: bigint; path: string })[] = []
  for (const f of readdirSync(dir)) {
    const m = kind.exec(f)
    if (!m) continue
    const path = join(dir, f)
    const read = readPrivate(path)
    if (read === null) {
      unlinkQuietly(path)
      continue
    }
    const { text, atMs } = read
    if (text.endsWith('\n')) files.push({ seq: BigInt(m[1]!), path, line: text.slice(0, -1), atMs })
  }
  return files.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))
}

const departures = (dir: string) => marksOf(dir, DEPARTURE)

/** The host renames the front noted ("OLD NEW IFINDEX DEVPATH"), oldest
 *  first, those no older than `keepMs`; older ones are removed (a rename
 *  that long before a departure is not part of it). Read by every process
 *  that records a departure; no lock needed. */
export function hostRenameMarks(keepMs: number, nowMs = Date.now(), dir = stateDir()): Mark[] {
  let found: (Mark & { path: string })[]
  try {
    found = marksOf(dir, RENAME)
  } catch {
    return [] // no state directory: nothing was noted
  }
  return found.filter((r) => {
    if (nowMs - r.atMs <= keepMs) return true
    unlinkQuietly(r.path)
    return false
  })
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {}
}

/** The leadership the front handed over, or null when not run by the front
 *  (an admin, a test) or when the fd is not a private lock file. */
export function leadershipFromEnv(env: NodeJS.ProcessEnv = process.env): Leadership | null {
  const raw = env.NICBACK_LEADER_FD
  if (raw === undefined || !/^\d{1,3}$/.test(raw)) return null
  const fd = Number(raw)
  const dir = stateDir()
  try {
    // A private regular file, and the very udev-leader.lock of the state
    // directory (not a link to it, not a file swapped in while the front
    // checked it and opened it).
    const st = fstatSync(fd)
    if (privateProblem(st, 'file') !== null) return null
    const at = lstatSync(join(dir, FRONT_LOCK))
    if (!at.isFile() || at.dev !== st.dev || at.ino !== st.ino) return null
  } catch {
    return null
  }
  // The front's descriptor holds the lock; closing it lets go.
  let lock: Lock = { release: () => closeSync(fd) }
  const own = env.SEQNUM
  noteLeading(dir)
  return {
    takeMarks() {
      const found = { own: false, others: false }
      for (const m of pendingMarks(dir)) {
        unlinkQuietly(m.path)
        if (m.seq === own) found.own = true
        else found.others = true
      }
      return found
    },
    takeDepartures() {
      const found = departures(dir)
      for (const d of found) unlinkQuietly(d.path)
      return found.map(({ line, atMs }) => ({ line, atMs }))
    },
    handOver() {
      // the note first: a front that still reads it has marked already
      unlinkQuietly(notePath(dir))
      lock.release()
      if (pendingMarks(dir).length === 0 && departures(dir).length === 0) return false
      let next: Lock | null
      try {
        next = tryLock(join(dir, FRONT_LOCK))
      } catch {
        // not a lock nicback would take (a symlink, not root's): no leader
        return false
      }
      if (next === null) return false
      lock = next
      noteLeading(dir)
      return true
    },
  }
}

const NOTE = new RegExp(`^${LEADING_NOTE}\\.(\\d{1,10})$`)
const notePath = (dir: string) => join(dir, `${LEADING_NOTE}.${process.pid}`)

/** Pure: a process's start time from its /proc/PID/stat line (field 22;
 *  the name, field 2, may hold spaces and parentheses), or null. */
export function startTimeOf(stat: string): string | null {
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ')
  const t = fields[19]
  return t !== undefined && /^\d{1,20}$/.test(t) ? t : null
}

/** This leader's note (see the top of this file), as the front would have
 *  written it; notes of other processes are left by leaders that died and
 *  are removed. Best effort: without a note, fronts try the lock. */
function noteLeading(dir: string): void {
  let born: string | null = null
  try {
    born = startTimeOf(readFileSync(`/proc/${process.pid}/stat`, 'utf8'))
  } catch {}
  const mine = notePath(dir)
  let written = false
  for (const f of readdirSync(dir)) {
    if (!NOTE.test(f)) continue
    const path = join(dir, f)
    if (path === mine && born !== null && noteSays(path) === born) written = true
    else unlinkQuietly(path)
  }
  if (written || born === null) return
  try {
    const fd = openSync(mine, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    try {
      writeSync(fd, `${born}\n`)
    } finally {
      closeSync(fd)
    }
  } catch {}
}

/** A note's start time, read as a mark is (readPrivate). */
const noteSays = (path: string): string | null => readPrivate(path)?.text.trim() ?? null

/** A file of the state directory the front or a leader wrote: its text (at
 *  most 8 KiB) and mtime; null when it is gone, unreadable, or not a
 *  private regular file. Never through a symlink or into a FIFO. */
function readPrivate(path: string): { text: string; atMs: number } | null {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    try {
      const st = fstatSync(fd)
      if (!st.isFile() || privateProblem(st, 'file') !== null) return null
      return { text: readFileSync(fd, 'utf8').slice(0, 8192), atMs: st.mtimeMs }
    } finally {
      closeSync(fd)
    }
  } catch {
    return null
  }
}
