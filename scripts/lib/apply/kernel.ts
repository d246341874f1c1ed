// The kernel as nicback changes it, behind one port. Every change to a link
// is an `ip link` command run in a batch, in the host's network namespace or
// in one nicback holds open; the kernel's answer to a failed line is read
// here, once, as an errno (ip prints strerror(3)), so nothing above branches
// on text. The in-memory fake (test/unit/fake-kernel.ts) is the other
// implementation: unit tests run the engine on it, the netns and vm tiers run
// it on this one.
import { altnamesOf, busPresent, busPresentAsync, readLinks, readLinksAsync, readLinksIn, refreshLinks, sysfsNames } from '../facts/links.js'
import { isCommandFailure, run, which } from '../system/exec.js'
import type { Netns } from '../system/netns.js'
import type { Link } from '../types.js'

/** What the kernel answered a failed command (ip's strerror, mapped). */
export type Errno = 'EEXIST' | 'EBUSY' | 'ENODEV' | 'EOTHER'

export interface LineFailure {
  /** 1-based line of the batch. */
  line: number
  errno: Errno
  /** ip's own words for that line, for people. */
  text: string
}

export interface BatchResult {
  ok: boolean
  /** Without `force` the first failure is the last line run. */
  failed: LineFailure[]
}

export interface Kernel {
  /** The host's devices now (`ip -j -d link` and sysfs). */
  links(): Link[]
  /** The devices of a namespace nicback holds (netlink only: sysfs there
   *  shows nicback's own netns). */
  linksIn(ns: Netns): Link[]
  /** `links` read again (cheaply where nothing changed). */
  refresh(links: readonly Link[]): Link[]
  /** links() without blocking the event loop (the agent's metrics). */
  linksAsync(signal?: AbortSignal): Promise<Link[]>
  /** Whether a device sits at this bus position, in any netns (a NIC away
   *  is; a destroyed VF or unplugged card is not). */
  busPresent(bus: string): boolean
  busPresentAsync(bus: string): Promise<boolean>
  /** Runs `ip` commands as one batch in `ns` (the host's when absent). */
  batch(cmds: string[][], force: boolean, ns?: Netns): BatchResult
  /** ifindex -> name bytes of the host's devices (sysfs). */
  names(): Map<number, Buffer>
  /** The altnames a host device has now. */
  altnames(ifindex: number): string[]
  /** Whether the kernel renames a device that is up. Kernels before 6.2
   *  answer EBUSY (some distributions backported the change), so it is
   *  learned from the kernel's answer, once per process, never from uname. */
  renameWhileUp: boolean
}

/** Tokens `ip -batch` reads back unchanged (it splits on blanks and treats
 *  quotes and # specially); interface names never need more. */
export const BATCH_SAFE = /^[^\s"'#\\]+$/

/** ip's strerror(3) words for the errors the engine acts on. */
export function errnoOf(text: string): Errno {
  if (/File exists/.test(text)) return 'EEXIST'
  if (/Device or resource busy/.test(text)) return 'EBUSY'
  if (/No such device|Cannot find device/.test(text)) return 'ENODEV'
  return 'EOTHER'
}

/** ip's own words about what failed, without the batch bookkeeping: the
 *  words ip printed for `line` (it prints a line's error, then "Command
 *  failed -:N"); `whole`: all of stderr is that line's (one command run
 *  alone, or ip named no line). */
function wordsFor(stderr: string, line: number, whole: boolean): string {
  let text = stderr
  if (!whole) {
    const chunks = stderr.split(/^Command failed -:(\d+)\s*$/m)
    // [before1, N1, before2, N2, ...]: the words before "Command failed -:N" are N's.
    for (let i = 1; i < chunks.length; i += 2) if (Number(chunks[i]) === line) text = chunks[i - 1]!
  }
  return (
    text
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('Command failed'))
      .join('; ') || 'ip failed'
  )
}

function ipCommand(ns: Netns | undefined, args: string[]): [string, string[]] {
  return ns === undefined ? ['ip', args] : ['nsenter', [`--net=${ns.path}`, '--', which('ip'), ...args]]
}

/** One `ip -batch -` process for all commands: under software emulation a
 *  process start costs ~0.4 s, on a server a few ms, and a restore runs up to
 *  a handful of commands. Without -force ip stops at the first failing line
 *  and names it ("Command failed -:N"), which is what the undo needs. */
function ipBatch(cmds: string[][], force: boolean, ns?: Netns): BatchResult {
  if (cmds.length === 0) return { ok: true, failed: [] }
  if (!cmds.every((c) => c.every((a) => BATCH_SAFE.test(a)))) return oneByOne(cmds, force, ns)
  try {
    run(...ipCommand(ns, [...(force ? ['-force'] : []), '-batch', '-']), `${cmds.map((c) => c.join(' ')).join('\n')}\n`)
    return { ok: true, failed: [] }
  } catch (err) {
    if (!isCommandFailure(err)) throw err
    const lines = [...err.stderr.matchAll(/Command failed -:(\d+)/g)].map((m) => Number(m[1]))
    // No line named: ip did not run at all (missing, killed), so nothing was done.
    const named = lines.length > 0 ? lines : [1]
    return {
      ok: false,
      failed: named.map((line) => {
        const text = wordsFor(err.stderr, line, lines.length === 0)
        return { line, errno: errnoOf(text), text }
      }),
    }
  }
}

function oneByOne(cmds: string[][], force: boolean, ns?: Netns): BatchResult {
  const failed: LineFailure[] = []
  for (const [i, c] of cmds.entries()) {
    try {
      run(...ipCommand(ns, c))
    } catch (err) {
      const text = isCommandFailure(err) ? wordsFor(err.stderr, i + 1, true) : (err as Error).message.trim()
      failed.push({ line: i + 1, errno: errnoOf(text), text })
      if (!force) break
    }
  }
  return { ok: failed.length === 0, failed }
}

let host: Kernel | null = null

/** The machine's kernel, one per process: what it taught (renameWhileUp)
 *  holds for every run of a long-lived agent. NICBACK_RENAME_WHILE_UP=0
 *  starts with the pre-6.2 way (tests). */
export function hostKernel(): Kernel {
  host ??= {
    links: () => readLinks(),
    linksIn: (ns) => readLinksIn(ns),
    refresh: refreshLinks,
    linksAsync: (signal) => readLinksAsync(signal),
    busPresent,
    busPresentAsync,
    batch: ipBatch,
    names: sysfsNames,
    altnames: altnamesOf,
    renameWhileUp: process.env.NICBACK_RENAME_WHILE_UP !== '0',
  }
  return host
}
