import { parse, printJson, say, type Command, type Options } from '../lib/cli/cli.js'
import { uninstall } from '../lib/runtimes/install.js'

const help = `Usage: nicback uninstall [--root DIR] [--purge] [--json]

Removes exactly the files "nicback install" wrote (its manifest,
/var/lib/nicback/install.json) and reloads udev. After "install --docker" it
also takes runtime "nicback" out of /etc/docker/daemon.json (that key only;
the file itself only if install created it and nothing else is in it) and
asks a running dockerd to reload. The registry of NIC names is kept unless
--purge is given.
`

const options = { root: { type: 'string' }, purge: { type: 'boolean' }, json: { type: 'boolean' } } satisfies Options

export default {
  summary: 'remove exactly what install added',
  help,
  options,
  root: (values) => (values.root === undefined ? 'it removes files below / and reloads udev (--root DIR works in a folder instead)' : null),
  async main(argv) {
    const { values } = parse(argv, options, false)
    const root = values.root ?? '/'
    const removed = await uninstall(root, values.purge === true)
    if (values.json) printJson({ root, removed })
    else if (removed.length > 0) say(`Removed below ${root}:`, ...removed.map((f) => `  ${f}`))
    else say('Nothing to remove: nicback is not installed there.')
    return 0
  },
} satisfies Command
