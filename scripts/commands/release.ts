import { parse, parseSeconds, printJson, say, table, type Command, type Options } from '../lib/cli/cli.js'
import { isNicbackError, nicbackError } from '../lib/system/errors.js'
import { MoveError } from '../lib/apply/transit.js'
import { nicsComeBack, type ComeBackResult } from '../lib/moments/return.js'
import { inspectContainer, type ContainerInfo } from '../lib/runtimes/engine.js'
import { openLocation, openTarget, recordedNicsIn } from '../lib/runtimes/target.js'
import { loadRegistry } from '../lib/state/registry.js'
import { log } from '../lib/system/log.js'
import type { Netns } from '../lib/system/netns.js'
import type { Away } from '../lib/types.js'

const help = `Usage: nicback release (IFACE... | --from CONTAINER) [--timeout SEC] [--json]

Brings NICs given to a container back to the host, the clean way: each is
found in the container's network namespace by what the container cannot
forge (bus position, permanent MAC), moved into a scratch namespace only
nicback can reach, checked there to be that NIC (anything else the container
slipped in is sent back), given its host MAC and host name there, and only
then moved to the host: neither devN nor its container name ever appears on
the host, and no device of the container's can take its place. Then its MTU
and admin state are restored and udev is asked to tell the network manager
(a udev change event: systemd-networkd, NetworkManager).

  IFACE...         NICs by their recorded host name
  --from CONTAINER every NIC nicback gave to this Docker or podman container
                   (name or id), and any recorded NIC found in it
  --timeout SEC    when the container is already gone, how long to wait for
                   the kernel to hand the NIC back (default 30); the wait ends
                   on the link event, not on a timer
  --json           print what was done as JSON

If the container is gone, its netns dies and the kernel hands the NIC back by
itself (as devN or under its container-side name): release then waits for it
and restores it the same way.

Exit status: 0 every NIC is home (also when there was nothing to release),
1 any is not (the message says why; a name that is not recorded is said as
such, and nothing is done), 2 bad usage.
`

const options = { from: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' } } satisfies Options

export interface ReleaseArgs {
  names: string[]
  from: string | undefined
  timeoutMs: number
  json: boolean
}

/** Pure: the command line of release. Throws a NicbackError 'usage'. */
export function parseRelease(argv: string[]): ReleaseArgs {
  const { values, positionals } = parse(argv, options)
  if (values.from !== undefined && positionals.length > 0) throw nicbackError('usage', 'release', 'give IFACE names or --from CONTAINER, not both')
  if (values.from === undefined && positionals.length === 0) throw nicbackError('usage', 'release', 'name the NIC(s) to release, or --from CONTAINER')
  if (values.from === '') throw nicbackError('usage', 'release', '--from needs a container name or id')
  const timeoutMs = values.timeout === undefined ? 30_000 : Math.round(parseSeconds(values.timeout, '--timeout') * 1000)
  return { names: positionals, from: values.from, timeoutMs, json: values.json === true }
}

/** Pure: whether a NIC was recorded as given to this container (`ref` as
 *  the user typed it, `info` as the engine knows it, when it still does). */
export function givenTo(c: Away['container'], ref: string, info: ContainerInfo | null): boolean {
  if (c === undefined) return false
  if (info?.id && c.id === info.id) return true
  if (info?.name && c.name === info.name) return true
  return c.name === ref || c.id === ref || (ref.length >= 4 && /^[0-9a-f]+$/.test(ref) && c.id?.startsWith(ref) === true)
}

/** One NIC's outcome, for people and for --json. */
interface Released {
  name: string
  ok: boolean
  /** pulled: taken out of a live netns; returned: handed back by the kernel; home: nothing to do. */
  how: 'pulled' | 'returned' | 'home' | 'failed'
  /** Where it was taken out of (pulled). */
  from?: string
  error?: string
}

function outcomes(names: string[], r: ComeBackResult, from: Netns | null): Released[] {
  return names.map((name) => {
    const failure = r.failures.find((f) => f.name === name)
    if (failure) return { name, ok: false, how: 'failed', error: failure.error }
    const nic = r.report?.nics.find((n) => n.name === name)
    const ok = nic?.home ?? false
    const how = r.pulled.includes(name) ? 'pulled' : r.returned.includes(name) ? 'returned' : 'home'
    if (!ok) return { name, ok, how: 'failed', error: nic?.reason ?? 'not home' }
    return how === 'pulled' && from !== null ? { name, ok, how, from: from.where } : { name, ok, how }
  })
}

export default {
  summary: 'bring NICs back from a container cleanly (no devN), as they were',
  help,
  options,
  args: 'iface',
  root: "it moves NICs between network namespaces, renames them and writes nicback's registry",
  async main(argv) {
    const a = parseRelease(argv)
    let names = a.names
    let from: Netns | null = null
    const entries = loadRegistry().nics
    // A name that is not recorded is said once, as such, before anything is
    // done: not also as a NIC that "is NOT home".
    const unrecorded = names.filter((n) => !entries.some((e) => e.name === n))
    if (unrecorded.length > 0) {
      for (const n of unrecorded) log.error(`${n} is not a recorded NIC (see "nicback status")`, { nic: n, cause: 'not a recorded NIC', fix: 'see "nicback status"' })
      if (a.json) printJson({ results: unrecorded.map((name) => ({ name, ok: false, how: 'failed', error: `${name} is not a recorded NIC` })), steps: [] })
      return 1
    }
    try {
      if (a.from !== undefined) {
        let info: ContainerInfo | null = null
        let why = ''
        try {
          info = inspectContainer(a.from)
        } catch (err) {
          if (!isNicbackError(err, 'container', 'container_not_found')) throw err
          why = err.message
        }
        names = entries.filter((e) => e.away !== null && givenTo(e.away.container, a.from!, info)).map((e) => e.name)
        if (info?.running) {
          from = openTarget({ pid: info.pid, container: { id: info.id ?? undefined, name: info.name ?? undefined } }).ns
          for (const n of recordedNicsIn(from)) if (!names.includes(n)) names.push(n)
        }
        if (names.length === 0) {
          // Idempotent, like restore: a NIC given to a container that is gone
          // may already be home (udev's rule restored it).
          const about = why ? ` (${why})` : info ? ` (${info.engine} ${info.name ?? info.id}, ${info.status ?? 'no status'})` : ''
          ;(why ? log.warn : log.info)(`nothing to release: no recorded NIC is away in container "${a.from}"${about}; see "nicback status"`, { container: a.from, cause: why || undefined, fix: 'see "nicback status"' })
          if (a.json) printJson({ results: [] })
          return 0
        }
      }
      const results: Released[] = []
      const steps: string[] = []
      // NICs of one container come back together; by name, each from its own netns.
      const groups = a.from !== undefined ? [names] : names.map((n) => [n])
      for (const group of groups) {
        if (a.from === undefined) {
          // By name: the netns each was recorded going to, if it is alive.
          from?.close()
          from = null
          const entry = entries.find((e) => e.name === group[0])
          try {
            from = entry?.away ? openLocation(entry) : null
          } catch (err) {
            // A recorded PID or file that is not the container's netns any more.
            if (!(err instanceof MoveError)) throw err
            results.push({ name: group[0]!, ok: false, how: 'failed', error: err.message })
            continue
          }
        }
        const r = await nicsComeBack(group, { from, timeoutMs: a.timeoutMs })
        results.push(...outcomes(group, r, from))
        steps.push(...r.steps)
      }
      for (const r of results) if (r.error) log.error(r.error, { nic: r.name, cause: r.error })
      if (a.json) printJson({ results, steps })
      else {
        const how = { home: 'was already home', pulled: 'is home, taken out of', returned: 'is home, handed back by the kernel', failed: 'is NOT home' }
        say(...results.map((r) => `${r.name} ${how[r.how]}${r.from ? ` ${r.from}` : ''}`), ...steps.map((s, i) => `  ${i + 1}. ${s}`))
        if (results.length > 1) process.stdout.write(table([['NIC', 'RESULT'], ...results.map((r) => [r.name, r.how])]))
      }
      return results.every((r) => r.ok) ? 0 : 1
    } finally {
      from?.close()
    }
  },
} satisfies Command
