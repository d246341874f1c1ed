// Installing nicback on a host: its files in place (a copy of dist/, the
// `nicback` wrapper, the udev rules, the boot-time record unit, the OCI hook
// files for podman and CRI-O, and with --docker the runtime shim and its key
// in daemon.json), udev reloaded and every NIC recorded (moments/record.ts).
// Everything written is listed in a manifest (state/manifest.ts) so that
// uninstalling removes exactly that. `nicback install` and `nicback
// uninstall` parse and print; the work is here. Installing records every
// NIC, writes down those already away, and brings home those already back
// as devN (moments/return.ts finds their names).
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { $ } from 'zx/core'
import { nicsRecorded } from '../moments/record.js'
import { logReport, nicReturns } from '../moments/return.js'
import { writeFileDurably } from '../system/atomic.js'
import { log } from '../system/log.js'
import { distDir, nodeBin } from '../system/paths.js'
import { BIN, HOOK_FILES, HOOKS_D, LIB, MANIFEST, readManifest, RULES, RUNTIME_BIN, UNIT, UNIT_WANTS } from '../state/manifest.js'
import { registryPath } from '../state/registry.js'
import { addRuntime, DAEMON_JSON, readIfExists, reloadDockerd, removeRuntime, RUNTIME_NAME, type DockerNote } from './dockerd.js'

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

export interface InstallOptions {
  /** Install below this directory; '/' also reloads udev and dockerd and records NICs. */
  root: string
  /** Record every NIC on a bus (only when root is '/'). */
  record: boolean
  docker: boolean
  netdevices: boolean
}

export interface Installed {
  /** packaged: the Debian package owns everything and nothing was asked of
   *  it; shim: only Docker's shim added to the package's install;
   *  installed: nicback installed. */
  kind: 'packaged' | 'shim' | 'installed'
  /** Every file install wrote, so far, sorted. */
  files: string[]
  /** What was done besides writing files. */
  done: string[]
}

/** daemon.json with runtime "nicback" added, when that changes it: what
 *  uninstall needs to take exactly that out again (the manifest's note). */
function writeDaemonJson(docker: ReturnType<typeof addRuntime>, daemonJson: string, note: DockerNote | undefined, done: string[]): DockerNote | undefined {
  if (!docker.changed) return note
  mkdirSync(dirname(daemonJson), { recursive: true })
  writeFileDurably(daemonJson, docker.text)
  done.push(`added runtime "${RUNTIME_NAME}" to ${DAEMON_JSON}`)
  return { path: DAEMON_JSON, runtime: RUNTIME_NAME, createdFile: docker.createdFile, createdRuntimes: docker.createdRuntimes, ...(docker.empty !== undefined ? { empty: docker.empty } : {}) }
}

/** Installs nicback below `opts.root`. */
export async function install(opts: InstallOptions): Promise<Installed> {
  const root = opts.root
  const src = distDir()
  const manifest = readManifest(root)
  // daemon.json first: a file nicback refuses to touch stops the install
  // before anything is written.
  const daemonJson = join(root, DAEMON_JSON)
  const docker = opts.docker ? addRuntime(readIfExists(daemonJson), daemonJson, RUNTIME_NAME, { path: RUNTIME_BIN }) : null
  const wrote = new Set(manifest.files)
  const put = (path: string, content: string, mode = 0o644) => {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), content, { mode })
    wrote.add(path)
  }

  if (src === PACKAGED_LIB) {
    // The Debian package owns the rules, the unit, the hooks and the
    // command (dpkg -L nicback): only Docker's shim is added here.
    if (!docker) return { kind: 'packaged', files: [], done: [] }
    put(RUNTIME_BIN, runtimeWrapper(PACKAGED_LIB, '/usr/sbin/nicback'), 0o755)
    const done: string[] = []
    const dockerNote = writeDaemonJson(docker, daemonJson, manifest.docker, done)
    const reloaded = root === '/' ? reloadDockerd() : null
    if (reloaded) done.push(reloaded)
    put(MANIFEST, `${JSON.stringify({ files: [...wrote].sort(), ...(dockerNote ? { docker: dockerNote } : {}) }, null, 2)}\n`, 0o600)
    return { kind: 'shim', files: [...wrote].sort(), done }
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
  const [hookFiles, otherHookFiles] = opts.netdevices ? [HOOK_FILES.always, HOOK_FILES.annotation] : [HOOK_FILES.annotation, HOOK_FILES.always]
  for (const f of otherHookFiles) {
    rmSync(join(root, HOOKS_D, f), { force: true })
    wrote.delete(join(HOOKS_D, f))
  }
  for (const f of hookFiles) put(join(HOOKS_D, f), fill(readFileSync(join(src, 'hooks', f), 'utf8')))

  const done: string[] = []
  let dockerNote = manifest.docker
  if (docker) {
    put(RUNTIME_BIN, runtimeWrapper(), 0o755)
    dockerNote = writeDaemonJson(docker, daemonJson, manifest.docker, done)
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
    if (opts.record) {
      const r = nicsRecorded({ names: [], force: false, boot: false })
      done.push(`recorded ${r.recorded.map((x) => x.name).join(', ') || 'no NIC'}`)
      if (r.away.length > 0) done.push(`wrote down ${r.away.length} NIC(s) already away with no record (${r.away.map((a) => `${a.identity} in ${a.where}`).join(', ')}): each gets its host name when it comes back`)
      // NICs back before nicback was here (devN): named now, as the agent's
      // start-up reconcile and the rule's next event would.
      const back = nicReturns({ select: { kind: 'returned' } })
      logReport(back)
      const named = back.nics.filter((n) => n.home && n.outcome === 'restore')
      if (named.length > 0) done.push(`brought home ${named.map((n) => `${n.name} (was ${n.was}, name from ${n.source})`).join(', ')}`)
      for (const s of r.skipped) log.warn(s.reason, { nic: s.name, cause: s.reason })
    }
  }
  return { kind: 'installed', files: [...wrote].sort(), done }
}

/** Removes exactly what install wrote below `root` (its manifest), and the
 *  registry too with `purge`; returns what was removed. */
export async function uninstall(root: string, purge: boolean): Promise<string[]> {
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
  if (purge) {
    const reg = root === '/' ? registryPath() : join(root, '/var/lib/nicback/registry.json')
    for (const f of [reg, `${reg}.lock`]) {
      if (!existsSync(f)) continue
      rmSync(f)
      removed.push(f)
    }
  }
  if (root === '/' && existsSync('/run/udev/control')) await $({ quiet: true })`udevadm control --reload`
  return removed
}
