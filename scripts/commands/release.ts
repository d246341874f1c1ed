import { parse, parseSeconds, printJson, say, table, type Command, type Options } from '../lib/cli/cli.js'
import { nicbackError } from '../lib/system/errors.js'
import { release } from '../lib/runtimes/release.js'
import { log } from '../lib/system/log.js'

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

export default {
  summary: 'bring NICs back from a container cleanly (no devN), as they were',
  help,
  options,
  args: 'iface',
  root: "it moves NICs between network namespaces, renames them and writes nicback's registry",
  async main(argv) {
    const a = parseRelease(argv)
    const r = await release(a)
    if ('unrecorded' in r) {
      for (const n of r.unrecorded) log.error(`${n} is not a recorded NIC (see "nicback status")`, { nic: n, cause: 'not a recorded NIC', fix: 'see "nicback status"' })
      if (a.json) printJson({ results: r.unrecorded.map((name) => ({ name, ok: false, how: 'failed', error: `${name} is not a recorded NIC` })), steps: [] })
      return 1
    }
    if ('nothing' in r) {
      ;(r.warn ? log.warn : log.info)(r.nothing, { container: a.from, fix: 'see "nicback status"' })
      if (a.json) printJson({ results: [] })
      return 0
    }
    const { results, steps } = r
    for (const r of results) if (r.error) log.error(r.error, { nic: r.name, cause: r.error })
    if (a.json) printJson({ results, steps })
    else {
      const how = { home: 'was already home', pulled: 'is home, taken out of', returned: 'is home, handed back by the kernel', failed: 'is NOT home' }
      say(...results.map((r) => `${r.name} ${how[r.how]}${r.from ? ` ${r.from}` : ''}`), ...steps.map((s, i) => `  ${i + 1}. ${s}`))
      if (results.length > 1) process.stdout.write(table([['NIC', 'RESULT'], ...results.map((r) => [r.name, r.how])]))
    }
    return results.every((r) => r.ok) ? 0 : 1
  },
} satisfies Command
