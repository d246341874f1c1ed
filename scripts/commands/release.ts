import { parse, printJson, table, UsageError, type Command } from '../lib/cli.js'
import { ContainerError, inspectContainer, type ContainerInfo } from '../lib/container.js'
import { log } from '../lib/log.js'
import { MoveError, recordedNicsIn, takeBackNic, type TakeBackResult, type Target } from '../lib/move.js'
import { loadRegistry } from '../lib/registry.js'
import type { Away } from '../lib/types.js'

const help = `Usage: nicback release (IFACE... | --from CONTAINER) [--timeout SEC] [--json]

Brings NICs given to a container back to the host, the clean way: each is
set down inside, gets its host MAC back, is renamed inside to a name free on
both sides (its host name, or nbtmp<ifindex> when the container has a device
of that name) and moves to the host renamed to its host name in the same
request, so neither devN nor its container name ever appears on the host;
then its MTU and admin state are restored and udev is asked to tell the
network manager (a udev change event: systemd-networkd, NetworkManager).

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
1 any is not (the message says why), 2 bad usage.
`

export interface ReleaseArgs {
  names: string[]
  from: string | undefined
  timeoutMs: number
  json: boolean
}

/** Pure: the command line of release. Throws UsageError. */
export function parseRelease(argv: string[]): ReleaseArgs {
  const { values, positionals } = parse(argv, { from: { type: 'string' }, timeout: { type: 'string' } })
  if (values.from !== undefined && positionals.length > 0) throw new UsageError('give IFACE names or --from CONTAINER, not both')
  if (values.from === undefined && positionals.length === 0) throw new UsageError('name the NIC(s) to release, or --from CONTAINER')
  if (values.from === '') throw new UsageError('--from needs a container name or id')
  let timeoutMs = 30_000
  if (values.timeout !== undefined) {
    const sec = Number(values.timeout)
    if (values.timeout.trim() === '' || !Number.isFinite(sec) || sec <= 0) throw new UsageError(`--timeout needs a number of seconds, not "${values.timeout}"`)
    timeoutMs = Math.round(sec * 1000)
  }
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

function print(r: TakeBackResult): void {
  const how = r.how === 'home' ? 'was already home' : r.how === 'pulled' ? `is home, taken out of ${r.from}` : 'is home, handed back by the kernel'
  process.stdout.write(`${r.name} ${r.ok ? how : 'is NOT home'}\n`)
  process.stdout.write(r.steps.map((s, i) => `  ${i + 1}. ${s}\n`).join(''))
}

export default {
  summary: 'bring NICs back from a container cleanly (no devN), as they were',
  help,
  async main(argv) {
    const a = parseRelease(argv)
    let names = a.names
    let target: Target | undefined
    if (a.from !== undefined) {
      let info: ContainerInfo | null = null
      let why = ''
      try {
        info = inspectContainer(a.from)
      } catch (err) {
        if (!(err instanceof ContainerError)) throw err
        why = err.message
      }
      const entries = loadRegistry().nics
      names = entries.filter((e) => e.away !== null && givenTo(e.away.container, a.from!, info)).map((e) => e.name)
      if (info?.running) {
        target = { pid: info.pid, container: { id: info.id ?? undefined, name: info.name ?? undefined } }
        for (const n of recordedNicsIn(target)) if (!names.includes(n)) names.push(n)
      }
      if (names.length === 0) {
        // Idempotent, like restore: a NIC given to a container that is gone
        // may already be home (udev's rule restored it).
        const about = why ? ` (${why})` : info ? ` (${info.engine} ${info.name ?? info.id}, ${info.status ?? 'no status'})` : ''
        ;(why ? log.warn : log.info)(`nothing to release: no recorded NIC is away in container "${a.from}"${about}; see "nicback status"`)
        if (a.json) printJson({ results: [], failures: [] })
        return 0
      }
    }
    const results: TakeBackResult[] = []
    const failures: { name: string; error: string }[] = []
    for (const name of names) {
      try {
        const r = await takeBackNic(name, { timeoutMs: a.timeoutMs, target })
        results.push(r)
        if (!a.json) print(r)
        for (const e of r.errors) log.error(e)
      } catch (err) {
        if (!(err instanceof MoveError)) throw err
        failures.push({ name, error: err.message })
        log.error(err.message)
      }
    }
    if (a.json) printJson({ results, failures })
    else if (names.length > 1) {
      process.stdout.write(table([['NIC', 'RESULT'], ...results.map((r) => [r.name, r.ok ? r.how : 'failed']), ...failures.map((f) => [f.name, 'failed'])]))
    }
    return failures.length === 0 && results.every((r) => r.ok) ? 0 : 1
  },
} satisfies Command
