import { IFNAME_RULE, isValidIfname, parse, printJson, say, type Command, type Options } from '../lib/cli/cli.js'
import { nicbackError } from '../lib/system/errors.js'
import { isMoveError, nicsLeave, type GiveResult } from '../lib/moments/leave.js'
import { openTarget, type Target } from '../lib/runtimes/target.js'
import { log } from '../lib/system/log.js'

const help = `Usage: nicback assign IFACE (--to CONTAINER | --pid PID | --netns PATH|NAME)
                      [--as NAME] [--force] [--json]

Gives the host NIC IFACE to a container: records its host name, identity,
MTU and admin state and where it goes, then moves it into the container's
network namespace, renamed to NAME there (--as), and brings it up if it was
up. If a step fails, the steps before it are undone (the NIC is back on the
host as it was, the registry as it was). Nothing is linked under /run/netns.

  --to CONTAINER   a Docker or podman container, by name or id (its PID is
                   read from "docker inspect" / "podman inspect")
  --pid PID        the network namespace of process PID
  --netns PATH     a netns file (/proc/PID/ns/net, a bind mount); a NAME
                   without "/" means /run/netns/NAME ("ip netns add NAME")
  --as NAME        its name inside (default: IFACE)
  --force          move it although it is a virtual device (no bus: the kernel
                   destroys it with the netns instead of giving it back), it
                   carries the host's default route or a host address, or
                   nicback recorded it as away and has not seen it come home
  --json           print what was done as JSON

Always refused: a device the kernel cannot move (bridge, bond, team, vrf...;
wireless NICs move with their phy), a NIC that is not here (already away),
a container that shares the host's network namespace (--network host), and
a NAME already taken inside.

Get it back with "nicback release IFACE" or "nicback release --from CONTAINER";
if the container dies first, the kernel hands it back and nicback's udev rule
gives it its host name.

Exit status: 0 moved, 1 refused or failed (the message says why), 2 bad usage.
`

const options = {
  to: { type: 'string' },
  pid: { type: 'string' },
  netns: { type: 'string' },
  as: { type: 'string' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
} satisfies Options

export interface AssignArgs {
  iface: string
  target: Target
  insideName: string | undefined
  force: boolean
  json: boolean
}

/** Pure: the command line of assign. Throws a NicbackError 'usage'. */
export function parseAssign(argv: string[]): AssignArgs {
  const { values, positionals } = parse(argv, options)
  if (positionals.length !== 1) throw nicbackError('usage', 'assign', positionals.length === 0 ? 'name the NIC to assign' : `assign moves one NIC at a time (got ${positionals.join(', ')})`)
  const iface = positionals[0]!
  const given = (['to', 'pid', 'netns'] as const).filter((k) => values[k] !== undefined)
  if (given.length !== 1) {
    throw nicbackError('usage', 'assign', given.length === 0 ? 'say where it goes: --to CONTAINER, --pid PID or --netns PATH|NAME' : `give one of --to, --pid, --netns (got ${given.map((k) => `--${k}`).join(', ')})`)
  }
  let target: Target
  if (values.to !== undefined) {
    if (values.to === '') throw nicbackError('usage', 'assign', '--to needs a container name or id')
    target = { container: { name: values.to } }
  } else if (values.pid !== undefined) {
    if (!/^[1-9]\d*$/.test(values.pid) || !Number.isSafeInteger(Number(values.pid))) throw nicbackError('usage', 'assign', `--pid needs a process id, not "${values.pid}"`)
    target = { pid: Number(values.pid) }
  } else {
    if (values.netns === '') throw nicbackError('usage', 'assign', '--netns needs a path or a name')
    target = { netns: values.netns! }
  }
  if (values.as !== undefined && !isValidIfname(values.as)) throw nicbackError('usage', 'assign', `--as "${values.as}" is not a valid interface name (${IFNAME_RULE})`)
  if (!isValidIfname(iface)) throw nicbackError('usage', 'assign', `"${iface}" is not a valid interface name`)
  return { iface, target, insideName: values.as, force: values.force === true, json: values.json === true }
}

function print(r: GiveResult): void {
  const from = r.container.name ?? r.container.id?.slice(0, 12)
  say(
    `${r.hostName} is in ${r.where}${r.insideName !== r.hostName ? ` as ${r.insideName}` : ''} (ifindex ${r.ifindex} there)`,
    ...r.steps.map((s, i) => `  ${i + 1}. ${s}`),
    `Bring it back with "nicback release ${r.hostName}"${from ? ` or "nicback release --from ${from}"` : ''}.`,
  )
}

export default {
  summary: 'give a host NIC to a container (recorded first, undone on failure)',
  help,
  options,
  args: 'iface',
  root: "it moves NICs between network namespaces and writes nicback's registry",
  async main(argv) {
    const a = parseAssign(argv)
    try {
      const { ns, container } = openTarget(a.target)
      try {
        const [r] = await nicsLeave([{ host: a.iface, inside: a.insideName }], ns, { via: 'assign', force: a.force, container })
        if (a.json) printJson(r)
        else print(r!)
      } finally {
        ns.close()
      }
      return 0
    } catch (err) {
      if (!isMoveError(err)) throw err
      const kind = err.code === 'move_refused' ? 'refused' : 'failed'
      log.error(err.message, { nic: err.nic ?? a.iface, code: err.code, cause: err.message, overridable: err.overridable === true })
      if (a.json) printJson({ error: err.message, kind, overridable: err.overridable === true })
      return 1
    }
  },
} satisfies Command
