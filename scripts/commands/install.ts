// `nicback install`: puts nicback's files in place (a copy of dist/, the
// `nicback` wrapper, the udev rules, the boot-time record unit, the OCI hook
// files for podman and CRI-O, and with --docker the runtime shim and its key
// in daemon.json), reloads udev and records every NIC. Everything written is
// listed in a manifest so that `nicback uninstall` removes exactly that.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { $ } from 'zx/core'
import { parse, printJson, say, type Command, type Options } from '../lib/cli/cli.js'
import { readLinks } from '../lib/facts/links.js'
import { log } from '../lib/system/log.js'
import { addRuntime, DAEMON_JSON, readIfExists, reloadDockerd, RUNTIME_NAME, type DockerNote } from '../lib/runtimes/dockerd.js'
import { writeFileDurably } from '../lib/system/atomic.js'
import { distDir, nodeBin } from '../lib/system/paths.js'
import { recordLinks } from '../lib/plan/record.js'
import { updateRegistry } from '../lib/state/registry.js'
import { BIN, HOOK_FILES, HOOKS_D, LIB, MANIFEST, readManifest, RULES, RUNTIME_BIN, UNIT, UNIT_WANTS, type Manifest } from '../lib/state/manifest.js'

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
                run (README "Containers")

What was written is listed in /var/lib/nicback/install.json; "nicback
uninstall" removes exactly that.

Installed from the Debian package (npm run package), the package owns all of
the above under /usr (the program in /usr/libexec/nicback): "nicback
install" then only adds Docker's shim (--docker), and "nicback uninstall"
takes only that away, as does removing the package (not an upgrade).
`

/** Docker calls its runtime for every container operation; only create and
 *  run need nicback (to add its hooks), so the others skip node altogether. */
function runtimeWrapper(lib = LIB, hookBin = BIN): string {
  return `#!/bin/sh
# Installed by nicback; do not edit.
# Docker runtime "nicback" (/etc/docker/daemon.json). Only the create (or run)
# of a container that declares NICs needs nicback (it adds its OCI hooks to
# config.json): every other call, and the create of any other container, goes
# straight to runc, or to --nicback-runtime PATH (daemon.json runtimeArgs) or
# $NICBACK_RUNTIME, without starting node.
case " $* " in
*" create "* | *" run "*)
  bundle=. next=
  for a in "$@"; do
    if [ -n "$next" ]; then bundle=$a next=; continue; fi
    case $a in
    --bundle=* | -b=* | --b=*) bundle=\${a#*=} ;;
    --bundle | -b | --b) next=1 ;;
    esac
  done
  # Only a regular file is looked into, and grep opens it non-blocking (-D
  # skip): a FIFO there never hangs the create (node refuses it, saying so).
  if ! [ -f "$bundle/config.json" ] || [ -p "$bundle/config.json" ] ||
    grep -D skip -qs -e 'NICBACK_NICS=' -e '"io.nicback.nics"' "$bundle/config.json"; then
    NICBACK_HOOK_BIN=${hookBin} exec ${nodeBin} ${lib}/nicback-runtime.mjs "$@"
  fi ;;
esac
rt=\${NICBACK_RUNTIME:-runc}
case $1 in
--nicback-runtime) rt=$2; shift 2 ;;
--nicback-runtime=*) rt=\${1#*=}; shift ;;
esac
PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin exec "$rt" "$@"
`
}

function fill(template: string): string {
  return template.replaceAll('@NODE@', nodeBin).replaceAll('@NICBACK@', `${LIB}/nicback.mjs`).replaceAll('@NICBACK_BIN@', BIN).replaceAll('@NICBACK_UDEV@', `${LIB}/nicback-udev.cjs`).replaceAll('@NICBACK_FRONT@', `${LIB}/udev/nicback-udev-front.sh`)
}

/** Where the Debian package (scripts/package.mjs) puts the bundle. */
const PACKAGED_LIB = '/usr/libexec/nicback'

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
    const src = distDir()
    const manifest = readManifest(root)
    // daemon.json first: a file nicback refuses to touch stops the install
    // before anything is written.
    const daemonJson = join(root, DAEMON_JSON)
    const docker = values.docker ? addRuntime(readIfExists(daemonJson), daemonJson, RUNTIME_NAME, { path: RUNTIME_BIN }) : null
    const wrote = new Set(manifest.files)
    const put = (path: string, content: string, mode = 0o644) => {
      mkdirSync(dirname(join(root, path)), { recursive: true })
      writeFileSync(join(root, path), content, { mode })
      wrote.add(path)
    }

    if (src === PACKAGED_LIB) {
      // The Debian package owns the rules, the unit, the hooks and the
      // command (dpkg -L nicback): only Docker's shim is added here.
      if (!docker) {
        process.stdout.write('nicback is installed by its Debian package (dpkg -L nicback); "nicback install --docker" adds Docker\'s runtime shim\n')
        return 0
      }
      put(RUNTIME_BIN, runtimeWrapper(PACKAGED_LIB, '/usr/sbin/nicback'), 0o755)
      const done: string[] = []
      let dockerNote = manifest.docker
      if (docker.changed) {
        mkdirSync(dirname(daemonJson), { recursive: true })
        writeFileDurably(daemonJson, docker.text)
        dockerNote = { path: DAEMON_JSON, runtime: RUNTIME_NAME, createdFile: docker.createdFile, createdRuntimes: docker.createdRuntimes, ...(docker.empty !== undefined ? { empty: docker.empty } : {}) }
        done.push(`added runtime "${RUNTIME_NAME}" to ${DAEMON_JSON}`)
      }
      const reloaded = root === '/' ? reloadDockerd() : null
      if (reloaded) done.push(reloaded)
      put(MANIFEST, `${JSON.stringify({ files: [...wrote].sort(), ...(dockerNote ? { docker: dockerNote } : {}) }, null, 2)}\n`, 0o600)
      if (values.json) printJson({ root, files: [...wrote].sort(), done })
      else say(`Added Docker's runtime shim below ${root}:`, ...[...wrote].sort().map((f) => `  ${f}`), ...done)
      return 0
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
    const [hookFiles, otherHookFiles] = values.netdevices ? [HOOK_FILES.always, HOOK_FILES.annotation] : [HOOK_FILES.annotation, HOOK_FILES.always]
    for (const f of otherHookFiles) {
      rmSync(join(root, HOOKS_D, f), { force: true })
      wrote.delete(join(HOOKS_D, f))
    }
    for (const f of hookFiles) put(join(HOOKS_D, f), fill(readFileSync(join(src, 'hooks', f), 'utf8')))

    const done: string[] = []
    let dockerNote = manifest.docker
    if (docker) {
      put(RUNTIME_BIN, runtimeWrapper(), 0o755)
      if (docker.changed) {
        mkdirSync(dirname(daemonJson), { recursive: true })
        writeFileDurably(daemonJson, docker.text)
        dockerNote = { path: DAEMON_JSON, runtime: RUNTIME_NAME, createdFile: docker.createdFile, createdRuntimes: docker.createdRuntimes, ...(docker.empty !== undefined ? { empty: docker.empty } : {}) }
        done.push(`added runtime "${RUNTIME_NAME}" to ${DAEMON_JSON}`)
      }
      if (root === '/') {
        const reloaded = reloadDockerd()
        if (reloaded) done.push(reloaded)
        else log.warn(`dockerd is not running: it reads runtime "${RUNTIME_NAME}" from ${DAEMON_JSON} when it starts`, { cause: 'dockerd is not running', path: DAEMON_JSON })
      }
    }
    put(MANIFEST, `${JSON.stringify({ files: [...wrote].sort(), ...(dockerNote ? { docker: dockerNote } : {}) }, null, 2)}\n`, 0o600)

    if (root === '/') {
      $.quiet = true
      if (existsSync('/run/udev/control')) {
        await $`udevadm control --reload`
        done.push('reloaded udev rules')
      } else log.warn('systemd-udevd is not running: the rules take effect when it starts', { cause: 'systemd-udevd is not running' })
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
        for (const s of r.skipped) log.warn(s.reason, { nic: s.name, cause: s.reason })
      }
    }
    if (values.json) printJson({ root, files: [...wrote].sort(), done })
    else say(`Installed nicback below ${root}:`, ...[...wrote].sort().map((f) => `  ${f}`), ...done)
    return 0
  },
} satisfies Command
