import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { $ } from 'zx/core'
import { parse, printJson, say, type Command, type Options } from '../lib/cli/cli.js'
import { writeFileDurably } from '../lib/system/atomic.js'
import { reloadDockerd, removeRuntime } from '../lib/runtimes/dockerd.js'
import { MANIFEST, readManifest } from '../lib/state/manifest.js'
import { registryPath } from '../lib/state/registry.js'

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
    const { files, docker } = readManifest(root)
    const removed: string[] = []
    // daemon.json first: if it became invalid since, say so before anything goes.
    if (docker) {
      const path = join(root, docker.path)
      const text = existsSync(path) ? readFileSync(path, 'utf8') : null
      const r = text === null ? null : removeRuntime(text, { ...docker, path })
      if (r?.changed) {
        if (r.text === null) rmSync(path, { force: true })
        else writeFileDurably(path, r.text)
        removed.push(`${docker.path} (runtime "${docker.runtime}"${r.text === null ? ', and the file nicback had created' : ''})`)
        if (root === '/') reloadDockerd()
      }
    }
    for (const f of [...files, MANIFEST]) {
      if (existsSync(join(root, f))) {
        rmSync(join(root, f), { recursive: true, force: true })
        removed.push(f)
      }
    }
    if (values.purge) {
      const reg = root === '/' ? registryPath() : join(root, '/var/lib/nicback/registry.json')
      for (const f of [reg, `${reg}.lock`])
        if (existsSync(f)) {
          rmSync(f)
          removed.push(f)
        }
    }
    if (root === '/' && existsSync('/run/udev/control')) await $({ quiet: true })`udevadm control --reload`
    if (values.json) printJson({ root, removed })
    else if (removed.length > 0) say(`Removed below ${root}:`, ...removed.map((f) => `  ${f}`))
    else say('Nothing to remove: nicback is not installed there.')
    return 0
  },
} satisfies Command
