import { parse, printJson, table, type Command, type Options } from '../lib/cli/cli.js'
import { nicsRecorded } from '../lib/moments/record.js'
import { log } from '../lib/system/log.js'

const help = `Usage: nicback record [IFACE...] [--force] [--boot] [--json]

Remembers the host name of NICs, with what identifies them (bus position and
dev_port, permanent MAC), their MTU and admin state.

  (no IFACE)  every NIC on a bus (PCI, USB...) in this network namespace;
              and every NIC on a bus that is in another network namespace
              (a container's) with no record is written down as away (its
              bus position, permanent MAC, where it is): its host name was
              never seen here, so it gets the name udev's naming policy or
              sriov-cni's cache gives it when it comes back (nicback status)
  IFACE...    exactly these, virtual devices included (recognised by MAC)
  --force     record a NIC that carries a kernel fallback name (devN) or
              that nicback has recorded as away under another name
  --boot      run at boot (nicback-record.service): every container is gone,
              so forget where NICs went before recording

The registry is $NICBACK_STATE_DIR/registry.json (default /var/lib/nicback).
Exit status: 0 all recorded, 1 any NIC skipped or unknown, 2 bad usage.
`

const options = { force: { type: 'boolean' }, boot: { type: 'boolean' }, json: { type: 'boolean' } } satisfies Options

export default {
  summary: 'remember the host name of NICs (all on a bus, or those named)',
  help,
  options,
  args: 'iface',
  root: "it writes nicback's registry",
  main(argv) {
    const { values, positionals } = parse(argv, options)
    const result = nicsRecorded({ names: positionals, force: values.force === true, boot: values.boot === true })
    if (values.json) printJson(result)
    else if (result.recorded.length > 0 || result.away.length > 0) {
      process.stdout.write(table([['RECORDED', 'IDENTITY'], ...result.recorded.map((r) => [r.name, r.identity]), ...result.away.map((a) => [`- (away: ${a.where})`, a.identity])]))
    } else if (result.skipped.length === 0) {
      process.stdout.write('No NIC on a bus here; name the devices to record.\n')
    }
    for (const r of result.recorded) for (const d of r.replaced) log.warn(`${r.name} now names ${r.identity}; forgot ${d}`, { nic: r.name, identity: r.identity, forgot: d })
    for (const s of result.skipped) log.error(s.reason, { nic: s.name, cause: s.reason })
    return result.skipped.length > 0 ? 1 : 0
  },
} satisfies Command
