// `nicback install`: puts nicback's files in place, reloads udev and records
// every NIC (runtimes/install.ts).
import { parse, printJson, say, type Command, type Options } from '../lib/cli/cli.js'
import { install } from '../lib/runtimes/install.js'

const help = `Usage: nicback install [--root DIR] [--no-record] [--docker] [--netdevices] [--json]

Installs nicback on this host:
  /usr/local/lib/nicback/                 the bundled program
  /usr/local/sbin/nicback                 the command
  /etc/udev/rules.d/81-nicback.rules      leave/return triggers
  /etc/systemd/system/nicback-record.service (enabled)  records NICs at boot
  /usr/share/containers/oci/hooks.d/50-nicback-{createruntime,poststop}.json
                                          OCI hooks for podman and CRI-O, for
                                          containers annotated io.nicback.nics
then reloads udev's rules and records every NIC on a bus (nicback record).

  --root DIR    install below DIR instead of / (staging, images); does not
                reload udev or dockerd, or record NICs
  --no-record   do not record NICs now
  --docker      also the Docker runtime shim /usr/local/sbin/nicback-runtime,
                registered as runtime "nicback" in /etc/docker/daemon.json
                (merged into the file; an invalid file is refused, never
                overwritten); a running dockerd is asked to reload. Then:
                  docker run --runtime nicback -e NICBACK_NICS=eth2:eth0 ...
                (or --annotation io.nicback.nics=eth2:eth0, Docker 24+)
  --netdevices  install the OCI hooks for every container instead
                (50-nicback-always-*.json, when.always), so that containers
                given NICs through runtime-spec linux.netDevices are covered
                too; costs every container start and stop one short nicback
                run (docs/containers.md)

What was written is listed in /var/lib/nicback/install.json; "nicback
uninstall" removes exactly that.

Installed from the Debian package (npm run package), the package owns all of
the above under /usr (the program in /usr/libexec/nicback): "nicback
install" then only adds Docker's shim (--docker), and "nicback uninstall"
takes only that away, as does removing the package (not an upgrade).
`

const options = { root: { type: 'string' }, 'no-record': { type: 'boolean' }, docker: { type: 'boolean' }, netdevices: { type: 'boolean' }, json: { type: 'boolean' } } satisfies Options

export default {
  summary: 'install the udev rules, the boot-time unit and the command',
  help,
  options,
  // Below a staging --root DIR, a user may install into a folder of theirs.
  root: (values) => (values.root === undefined ? 'it writes below / and reloads udev (--root DIR stages in a folder instead)' : null),
  async main(argv) {
    const { values } = parse(argv, options, false)
    const root = values.root ?? '/'
    const r = await install({ root, record: !values['no-record'], docker: values.docker === true, netdevices: values.netdevices === true })
    if (r.kind === 'packaged') {
      process.stdout.write('nicback is installed by its Debian package (dpkg -L nicback); "nicback install --docker" adds Docker\'s runtime shim\n')
      return 0
    }
    if (values.json) printJson({ root, files: r.files, done: r.done })
    else say(`${r.kind === 'shim' ? "Added Docker's runtime shim" : 'Installed nicback'} below ${root}:`, ...r.files.map((f) => `  ${f}`), ...r.done)
    return 0
  },
} satisfies Command
