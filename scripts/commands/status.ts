import { parse, printJson, table, type Command, type Options } from '../lib/cli/cli.js'
import { describeStatus, MAX_LISTED, readStatus } from '../lib/moments/status.js'
import { printable } from '../lib/system/printable.js'

const help = `Usage: nicback status [--json]

One row per recorded NIC, one per NIC on a bus that is not recorded yet,
and one per NIC that was away with no record when nicback was installed:

  RECORDED  the host name nicback gives back ("-": none recorded)
  NOW       its name now, "-" while it is away
  STATE     home | away | gone | returned_misnamed | conflict | unrecorded
            (away: in a namespace that is alive; gone: no device at its
            bus position any more, a VF removed or a card unplugged)
  SOURCE    where the name it gets comes from: registry (seen on the
            host), or for a NIC back with no record, policy (udev's
            naming policy for its bus position) or sriov-cni (its cache of
            the VF's host name); "-": no name
  IDENTITY  what it is recognised by (bus position, permanent MAC)
  WHERE     where it went and who holds it, or why it cannot be restored;
            for a NIC back with no record and no name, why, and the
            command that gives it one

A NIC back with no record (a kernel fallback name devN, or seen away at
install) gets the name its source gives it, if no other device holds that
name and no recorded NIC has it; a CNI host-device ifalias is shown as a
hint only (a container can set it).

Under every NIC that is away, what keeps the network namespace it went to
alive (it comes back only when that namespace dies):

  kept alive by: pid 42 sleep (container 0123456789ab); bind mount /run/netns/x

the processes in it (PID, command, and the container and Kubernetes pod
their cgroup names; at most ${MAX_LISTED}, then how many more), and the nsfs
bind mounts of it in nicback's and PID 1's mount namespaces (/run/netns,
/run/docker/netns...). Stop those processes and remove those mounts ("ip
netns delete NAME", or unmount) and the NIC comes back. When nothing holds
it, it is on its way back ("nicback restore"); when nicback may not look
at some processes (permission denied), it says how many instead; when its namespace
cannot be found, the line says why. The namespace is the one recorded when
the NIC left (assign and the OCI hook note its inode), else the recorded
netns file or PID if still alive.

--json prints an array of objects with recordedName, name, state, source,
identity, container, away, detail and keepers: null unless the NIC is away, else
{inode, processes: [{pid, command, container, pod}], mounts, total, reason,
unreadable}: total counts every process in the namespace, listed or not;
inode is null and reason says why when the namespace cannot be found;
unreadable counts the processes whose network namespace nicback may not
look at (permission denied: not run as root, say), any of which may be in
it too. Read-only: takes no lock, changes nothing.
`

const options = { json: { type: 'boolean' } } satisfies Options

export default {
  summary: 'show every NIC: recorded name, name now, state, who holds it',
  help,
  options,
  root: "it reads nicback's registry, which is root's alone",
  main(argv) {
    const { values } = parse(argv, options, false)
    const rows = readStatus()
    if (values.json) {
      printJson(rows)
      return 0
    }
    if (rows.length === 0) {
      process.stdout.write('No NICs recorded and none on a bus. Record one with "nicback record IFACE".\n')
      return 0
    }
    const shown = rows.map(describeStatus)
    const lines = table([['RECORDED', 'NOW', 'STATE', 'SOURCE', 'IDENTITY', 'WHERE'], ...shown.map((r) => r.cells)]).split('\n')
    // Under each away NIC's row: what keeps it away (escaped as table() does its cells).
    const out = [lines[0]!]
    shown.forEach((r, i) => {
      out.push(lines[i + 1]!)
      if (r.keepers !== null) out.push(`  ${printable(r.keepers)}`)
    })
    process.stdout.write(`${out.join('\n')}\n`)
    return 0
  },
} satisfies Command
