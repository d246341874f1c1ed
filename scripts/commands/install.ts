// `nicback install`: puts nicback's files in place (a copy of dist/, the
// `nicback` wrapper, the udev rules, the boot-time record unit), reloads udev
// and records every NIC. Everything written is listed in a manifest so that
// `nicback uninstall` removes exactly that.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { $ } from 'zx/core'
import { parse, printJson, type Command } from '../lib/cli.js'
import { readLinks } from '../lib/links.js'
import { log } from '../lib/log.js'
import { distDir, nodeBin } from '../lib/paths.js'
import { recordLinks } from '../lib/record.js'
import { updateRegistry } from '../lib/registry.js'

const help = `Usage: nicback install [--root DIR] [--no-record] [--json]

Installs nicback on this host:
  /usr/local/lib/nicback/                 the bundled program
  /usr/local/sbin/nicback                 the command
  /etc/udev/rules.d/81-nicback.rules      leave/return triggers
  /etc/systemd/system/nicback-record.service (enabled)  records NICs at boot
then reloads udev's rules and records every NIC on a bus (nicback record).

  --root DIR    install below DIR instead of / (staging, images); does not
                reload udev or record NICs
  --no-record   do not record NICs now

What was written is listed in /var/lib/nicback/install.json; "nicback
uninstall" removes exactly that.
`

export const LIB = '/usr/local/lib/nicback'
export const BIN = '/usr/local/sbin/nicback'
export const RULES = '/etc/udev/rules.d/81-nicback.rules'
export const UNIT = '/etc/systemd/system/nicback-record.service'
export const UNIT_WANTS = '/etc/systemd/system/multi-user.target.wants/nicback-record.service'
export const MANIFEST = '/var/lib/nicback/install.json'

export interface Manifest {
  files: string[]
}

export function readManifest(root: string): Manifest {
  const path = join(root, MANIFEST)
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Manifest) : { files: [] }
}

function fill(template: string): string {
  return template.replaceAll('@NODE@', nodeBin).replaceAll('@NICBACK@', `${LIB}/nicback.mjs`).replaceAll('@NICBACK_BIN@', BIN).replaceAll('@NICBACK_UDEV@', `${LIB}/nicback-udev.cjs`)
}

export default {
  summary: 'install the udev rules, the boot-time unit and the command',
  help,
  async main(argv) {
    const { values } = parse(argv, { root: { type: 'string' }, 'no-record': { type: 'boolean' } }, false)
    const root = values.root ?? '/'
    const src = distDir()
    const manifest = readManifest(root)
    const wrote = new Set(manifest.files)
    const put = (path: string, content: string, mode = 0o644) => {
      mkdirSync(dirname(join(root, path)), { recursive: true })
      writeFileSync(join(root, path), content, { mode })
      wrote.add(path)
    }

    if (join(root, LIB) !== src) {
      rmSync(join(root, LIB), { recursive: true, force: true })
      cpSync(src, join(root, LIB), { recursive: true })
    }
    wrote.add(LIB)
    put(BIN, `#!/bin/sh\n# Installed by nicback; do not edit.\nexec ${nodeBin} ${LIB}/nicback.mjs "$@"\n`, 0o755)
    put(RULES, fill(readFileSync(join(src, 'udev/81-nicback.rules'), 'utf8')))
    put(UNIT, fill(readFileSync(join(src, 'udev/nicback-record.service'), 'utf8')))
    rmSync(join(root, UNIT_WANTS), { force: true })
    mkdirSync(dirname(join(root, UNIT_WANTS)), { recursive: true })
    symlinkSync('../nicback-record.service', join(root, UNIT_WANTS))
    wrote.add(UNIT_WANTS)
    put(MANIFEST, `${JSON.stringify({ files: [...wrote].sort() }, null, 2)}\n`, 0o600)

    const done: string[] = []
    if (root === '/') {
      $.quiet = true
      if (existsSync('/run/udev/control')) {
        await $`udevadm control --reload`
        done.push('reloaded udev rules')
      } else log.warn('systemd-udevd is not running: the rules take effect when it starts')
      if (existsSync('/run/systemd/system')) {
        await $`systemctl daemon-reload`
        done.push('reloaded systemd units')
      }
      if (!values['no-record']) {
        const links = readLinks().filter((l) => l.bus !== null)
        const r = updateRegistry((reg) => {
          const r = recordLinks(reg, links, { force: false, boot: false }, new Date().toISOString())
          return { changed: r.recorded.length > 0, value: r }
        })
        done.push(`recorded ${r.recorded.map((x) => x.name).join(', ') || 'no NIC'}`)
        for (const s of r.skipped) log.warn(s.reason)
      }
    }
    if (values.json) printJson({ root, files: [...wrote].sort(), done })
    else process.stdout.write(`Installed nicback below ${root}:\n${[...wrote].sort().map((f) => `  ${f}`).join('\n')}\n${done.map((d) => `${d}\n`).join('')}`)
    return 0
  },
} satisfies Command
