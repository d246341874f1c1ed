// `npm run package`: the Debian package nicback_<version>_all.deb, built with
// dpkg-deb from the bundle in dist/ (npm run build) and deploy/debian/:
//   /usr/libexec/nicback/                    the bundle: the programs the
//                                            command, udev, the OCI hooks and
//                                            Docker's shim run, and the
//                                            templates "nicback install" reads
//   /usr/sbin/nicback                        the command
//   /usr/lib/udev/rules.d/81-nicback.rules   leave/return triggers
//   /usr/lib/systemd/system/nicback-record.service   records NICs at boot
//   /usr/share/containers/oci/hooks.d/50-nicback-{createruntime,poststop}.json
//   /usr/share/man/man8/nicback.8.gz         from the CLI's --help texts
//   /usr/share/bash-completion/completions/nicback  from the same command table
//   /usr/share/doc/nicback/{copyright,changelog.Debian.gz}
// The maintainer scripts (deploy/debian/postinst, prerm, postrm) reload udev,
// enable the unit and record every NIC where a system runs (not in a chroot
// or an image build); remove masks the unit (an admin's disable survives a
// remove and a reinstall), purge forgets it and removes /var/lib/nicback.
// /etc (udev, Docker's daemon.json) is left to the admin: `nicback install
// --docker` stays an explicit step, but prerm takes its shim away again on
// remove (daemon.json byte for byte as before), or stops the removal saying
// why: no runtime may be left naming a program gone.
//
// What the control file says comes from package.json where package.json
// says it: the version (checked against the changelog), Homepage, and the
// node the bundle needs (engines.node ">=18": Depends: nodejs (>= 18)).
//
//   node scripts/package.mjs [--dist DIR] [--out DIR] [--lintian]
//
// --out defaults to the dist folder; the last stdout line is the .deb's path.
// --lintian runs lintian on it (installed with apt-get when missing) and
// fails on any error. Imported (the unit tier), it only exports its parts.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { invoked } from './invoked.mjs'

const repo = fileURLToPath(new URL('..', import.meta.url))
const DEB = join(repo, 'deploy/debian')

/** Where the package puts things (the packaging convention: /etc is the
 *  admin's; programs that only other programs run go in /usr/libexec). */
export const PATHS = {
  LIB: '/usr/libexec/nicback',
  BIN: '/usr/sbin/nicback',
  NODE: '/usr/bin/node',
  RULES: '/usr/lib/udev/rules.d/81-nicback.rules',
  UNIT: '/usr/lib/systemd/system/nicback-record.service',
  HOOKS_D: '/usr/share/containers/oci/hooks.d',
  HOOK_FILES: ['50-nicback-createruntime.json', '50-nicback-poststop.json'],
  MAN: '/usr/share/man/man8/nicback.8.gz',
  DOC: '/usr/share/doc/nicback',
  COMPLETION: '/usr/share/bash-completion/completions/nicback',
}
const { LIB, BIN, NODE, RULES, UNIT, HOOKS_D, HOOK_FILES, MAN, DOC, COMPLETION } = PATHS

/** package.json's engines.node as the Depends of Debian's nodejs: only a
 *  lower bound (">=18", ">= 18.19.0") can be said both ways. */
export function nodeDepends(range) {
  const m = /^\s*>=\s*(\d+(?:\.\d+){0,2})\s*$/.exec(range ?? '')
  if (!m) throw new Error(`package.json engines.node is "${range}": the package can only say a lower bound (">=18") as Depends: nodejs (>= 18)`)
  return `nodejs (>= ${m[1]})`
}

/** deploy/debian/control with its placeholders filled. */
export function controlFile(template, { version, installedKb, pkg }) {
  if (!pkg.homepage) throw new Error('package.json has no "homepage": the control file\'s Homepage comes from it')
  return template.replaceAll('@VERSION@', version).replaceAll('@INSTALLED_SIZE@', String(installedKb)).replaceAll('@NODEJS@', nodeDepends(pkg.engines?.node)).replaceAll('@HOMEPAGE@', pkg.homepage)
}

/** The templates' placeholders (udev/, hooks/) with the package's paths. */
export function fill(template) {
  return template.replaceAll('@NODE@', NODE).replaceAll('@NICBACK@', `${LIB}/nicback.mjs`).replaceAll('@NICBACK_BIN@', BIN).replaceAll('@NICBACK_UDEV@', `${LIB}/nicback-udev.cjs`).replaceAll('@NICBACK_FRONT@', `${LIB}/udev/nicback-udev-front.sh`)
}

/** The templates say "installed by nicback install"; here dpkg owns the file. */
export function packaged(template, how) {
  const lines = template.split('\n')
  const i = lines.findIndex((l) => /^# Installed by nicback/.test(l))
  if (i >= 0) {
    let j = i + 1
    while (j < lines.length && lines[j].startsWith('# ') && !/^# *$/.test(lines[j]) && /rewrites|removes|do not edit/.test(lines[j])) j++
    lines.splice(i, j - i, `# Installed by the nicback package; ${how}`)
  }
  return lines.join('\n')
}

export function rulesFile(template) {
  return packaged(fill(template), 'to change it, copy it to\n# /etc/udev/rules.d/81-nicback.rules (which then takes its place).')
}

/** The boot unit; the package also has the man page it points to. */
export function unitFile(template) {
  const unit = packaged(fill(template), 'override it with "systemctl edit".')
  if (!/^Documentation=/m.test(unit)) throw new Error('udev/nicback-record.service has no Documentation= line')
  return unit.replace(/^Documentation=(.*)$/m, (line, docs) => (docs.split(/\s+/).includes('man:nicback(8)') ? line : `Documentation=man:nicback(8) ${docs}`))
}

// ------------------------------------------------------------------ main
function main(args) {
  const opt = (k) => (args.includes(k) ? args[args.indexOf(k) + 1] : undefined)
  const dist = resolve(opt('--dist') ?? join(repo, 'dist'))
  const outDir = resolve(opt('--out') ?? dist)
  const die = (msg) => {
    process.stderr.write(`package: ${msg}\n`)
    process.exit(1)
  }
  const log = (msg) => process.stderr.write(`package: ${msg}\n`)

  /** apt-get install PKGS when COMMAND is missing (CI starts from a clean machine). */
  function ensureTool(command, pkgs) {
    if (spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0) return
    if (process.getuid?.() !== 0) die(`${command} is missing: apt-get install ${pkgs.join(' ')}`)
    log(`installing ${pkgs.join(' ')}`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    const install = () => spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=900', '-qq', 'install', '-y', '--no-install-recommends', ...pkgs], { stdio: ['ignore', 'ignore', 'inherit'], env })
    if (install().status !== 0) {
      spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=900', '-qq', 'update'], { stdio: ['ignore', 'ignore', 'inherit'], env })
      if (install().status !== 0) die(`cannot install ${pkgs.join(' ')}`)
    }
  }

  // ---------------------------------------------------------------- version
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'))
  const changelog = readFileSync(join(DEB, 'changelog'), 'utf8')
  const head = /^nicback \(([^)]+)\) /.exec(changelog)
  if (!head?.[1]) die('deploy/debian/changelog must start with "nicback (VERSION) ..."')
  const version = head[1]
  if (version.replace(/-[^-]+$/, '') !== pkg.version) {
    die(`deploy/debian/changelog is at ${version} but package.json at ${pkg.version}: add a changelog entry`)
  }
  // Reproducible: every timestamp is the changelog entry's date.
  const dateLine = /^ -- .+> {2}(.+)$/m.exec(changelog)?.[1]
  const epoch = Math.floor(new Date(dateLine ?? 0).getTime() / 1000)
  if (!Number.isFinite(epoch) || epoch <= 0) die('deploy/debian/changelog: no valid " -- NAME <MAIL>  DATE" line')

  // ---------------------------------------------------------------- staging
  if (!existsSync(join(dist, 'nicback.mjs')) || !existsSync(join(dist, 'nicback-udev.cjs'))) die(`no bundle in ${dist}: run npm run build first`)
  ensureTool('dpkg-deb', ['dpkg'])
  const stage = mkdtempSync(join(tmpdir(), 'nicback-deb-'))
  const root = join(stage, 'root')
  const put = (path, content, mode = 0o644) => {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), content)
    chmodSync(join(root, path), mode)
  }
  try {
    // the bundle, without earlier packages or images written into dist/
    cpSync(dist, join(root, LIB), { recursive: true, filter: (src) => !/\.(deb|tar|bash-completion)$/.test(src) })
    for (const f of walk(join(root, LIB))) {
      const text = readFileSync(f)
      chmodSync(f, text.subarray(0, 2).toString() === '#!' ? 0o755 : 0o644)
    }
    put(BIN, `#!/bin/sh\n# nicback(8), from the nicback package.\nexec ${NODE} ${LIB}/nicback.mjs "$@"\n`, 0o755)
    put(RULES, rulesFile(readFileSync(join(dist, 'udev/81-nicback.rules'), 'utf8')))
    put(UNIT, unitFile(readFileSync(join(dist, 'udev/nicback-record.service'), 'utf8')))
    for (const f of HOOK_FILES) put(join(HOOKS_D, f), fill(readFileSync(join(dist, 'hooks', f), 'utf8')))

    const help = (...cmd) => execFileSync(process.execPath, [join(dist, 'nicback.mjs'), ...cmd, '--help'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
    put(MAN, gzip(manPage({ help, version: pkg.version, date: new Date(epoch * 1000).toISOString().slice(0, 10) })))
    // the bash completion, from the same command table as the help and the man page (build.mjs)
    put(COMPLETION, readFileSync(join(dist, 'nicback.bash-completion')))
    put(join(DOC, 'copyright'), readFileSync(join(DEB, 'copyright')))
    put(join(DOC, 'changelog.Debian.gz'), gzip(changelog))
    if (existsSync(join(DEB, 'lintian-overrides'))) put('/usr/share/lintian/overrides/nicback', readFileSync(join(DEB, 'lintian-overrides')))

    // control files
    const control = join(root, 'DEBIAN')
    mkdirSync(control)
    const files = walk(root).filter((f) => !f.startsWith(control + '/'))
    const installedKb = files.reduce((n, f) => n + Math.ceil(statSync(f).size / 1024), 0) + walkDirs(root).length
    try {
      writeFileSync(join(control, 'control'), controlFile(readFileSync(join(DEB, 'control'), 'utf8'), { version, installedKb, pkg }))
    } catch (err) {
      die(err.message)
    }
    writeFileSync(
      join(control, 'md5sums'),
      files
        .map((f) => `${createHash('md5').update(readFileSync(f)).digest('hex')}  ${relative(root, f)}\n`)
        .sort((a, b) => (a.slice(34) < b.slice(34) ? -1 : 1))
        .join(''),
    )
    for (const s of ['postinst', 'prerm', 'postrm']) {
      cpSync(join(DEB, s), join(control, s))
      chmodSync(join(control, s), 0o755)
    }
    chmodSync(join(control, 'control'), 0o644)
    chmodSync(join(control, 'md5sums'), 0o644)
    for (const d of walkDirs(root)) chmodSync(d, 0o755)

    mkdirSync(outDir, { recursive: true })
    const deb = join(outDir, `nicback_${version}_all.deb`)
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, deb], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
    })
    if (args.includes('--lintian')) {
      ensureTool('lintian', ['lintian'])
      const r = spawnSync('lintian', ['--info', '--display-info', '--tag-display-limit', '0', deb], { encoding: 'utf8' })
      process.stderr.write(r.stdout + r.stderr)
      if (r.status !== 0 || /^E: /m.test(r.stdout)) die(`lintian reports errors on ${deb}`)
    }
    process.stdout.write(`${deb}\n`)
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))
}
function walkDirs(dir) {
  return [
    dir,
    ...readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => walkDirs(join(dir, e.name))),
  ]
}
function gzip(text) {
  return gzipSync(Buffer.from(text), { level: 9 }) // no name, mtime 0
}

// ------------------------------------------------------------------ nicback(8)
/** Every environment variable nicback reads, for the man page's ENVIRONMENT
 *  (the unit tier holds this list equal to the names the source reads). The
 *  top-level --help names the one an admin sets; this is the whole list. */
export const ENVIRONMENT = [
  [
    'NICBACK_STATE_DIR',
    "The state directory (default /var/lib/nicback): registry.json (the recorded NICs), counters.json (for nicback metrics), install.json (what nicback install wrote), and the udev front's lock and marks. An absolute path, not under /proc, /sys or /dev; nicback refuses it unless root owns it and no one else may write it (mode 0700, as the boot unit's StateDirectory= makes it).",
  ],
  ['NICBACK_LOCK_WAIT', "Seconds (at most 600) that nicback udev (default 60) and nicback watch (default 10) wait for the registry's lock while another nicback holds it."],
  ['NICBACK_NODE_NAME', "The node's name, put on every log line (a JSON field, or the text prefix) and in nicback_build_info; the DaemonSet sets it from spec.nodeName. Ignored unless it is a name Kubernetes would give a node."],
  ['NICBACK_DEBUG', "1: debug messages on stderr too (the processes that log to syslog send them there at debug priority anyway). Any value: a command that fails also prints the error's stack trace."],
  [
    'NICBACK_NICS',
    "Not nicback's own environment but a container's (its config.json process.env): the NICs the container is to be given, \"eth2:eth0,eth3\" (host name, optional name inside), as the annotation io.nicback.nics says it. Read by nicback hook at createRuntime and by nicback-runtime, Docker's runtime shim: docker run --runtime nicback -e NICBACK_NICS=eth2:eth0 ...",
  ],
  [
    'NICBACK_SRIOV_CNI_DIR',
    "Where sriov-cni keeps its cache (default /var/lib/cni/sriov, its own default): the host name of each VF it moved, read when a VF comes back with no record. Read only if that directory and those above it are root's and no one else may write it, and only files that are root's alone.",
  ],
  ['NICBACK_HOOK_STAGE', 'The stage of nicback hook when --stage is not given: createRuntime (or prestart) or poststop. OCI runtimes do not tell a hook its stage.'],
  ['NICBACK_HOOK_TIMEOUT', 'Seconds nicback hook waits at poststop for the NICs to come back when --timeout is not given (default 10).'],
  ['NICBACK_RUNTIME', "The OCI runtime nicback-runtime (Docker's shim) hands every call to when daemon.json's runtimeArgs give no --nicback-runtime (default runc, looked up on PATH)."],
  ['NICBACK_HOOK_BIN', "The command nicback-runtime writes into a container's config.json as its hooks' path; the wrapper /usr/local/sbin/nicback-runtime sets it to the installed nicback."],
  ['NICBACK_LEADER_FD', 'Set by the udev front (nicback-udev-front.sh) for nicback udev: the descriptor of the leader lock it holds. Not to be set by hand.'],
  ['ACTION', "Set by udev for the rule's program (nicback udev and its front): add, move or remove."],
  ['INTERFACE', "Set by udev: the NIC's name in the event."],
  ['IFINDEX', "Set by udev: the NIC's ifindex."],
  ['DEVPATH', "Set by udev: the device's sysfs path, which gives its bus position."],
  ['DEVPATH_OLD', "Set by udev for a move (rename): the device's path under its old name."],
  ['SEQNUM', "Set by udev: the event's number, which names the front's marks."],
  ['USEC_INITIALIZED', 'Set by udev: when the device was initialized (CLOCK_MONOTONIC, microseconds), the start of the return-to-name histogram of nicback metrics.'],
  ['NO_COLOR', 'Set (to anything): no colour, even on a terminal (no-color.org). Colour is only ever written to a terminal.'],
  ['TERM', 'dumb: no colour.'],
  ['PATH', 'Where nicback finds docker and podman (assign --to, release --from) and nicback-runtime finds the OCI runtime; the usual sbin and bin directories are searched after it (hooks and udev run with a short PATH).'],
  ['NICBACK_RENAME_WHILE_UP', 'For the tests: 0 renames a NIC the way kernels before 6.2 need (down, rename, up) from the start, instead of after the kernel refuses a rename while up.'],
  ['NICBACK_WAIT_POLL_MS', 'For the tests: the backstop poll (milliseconds, default 2000) of a wait for a NIC to come back, which otherwise ends on the link event.'],
  ['NICBACK_WATCH_MONITOR', 'For the tests: the event source of nicback watch instead of udevadm monitor, as a JSON array (argv).'],
  ['NICBACK_FAIL_AT', 'For the tests: makes the named step of a change fail, to show it is undone.'],
  ['NICBACK_STOP_AFTER', 'For the tests: a restore kills itself after that many steps, as a udev worker killed mid-run would; the next run must converge.'],
]

/** The EXAMPLES section: what each does, and its command lines (every
 *  option one the commands' --help texts give). */
export const EXAMPLES = [
  ["Every NIC: its recorded name, its name now, its state, and what keeps an away NIC's network namespace alive:", ['nicback status']],
  ['Record a NIC added since boot now (the boot unit records every NIC present at boot, the udev rule a NIC that leaves):', ['nicback record enp5s0']],
  ['Give a Docker container a NIC, named eth1 inside, and take it back cleanly:', ['nicback assign enp5s0 --to web --as eth1', 'nicback release enp5s0']],
  ['Let Docker containers declare their NICs (the runtime shim, once), then start one:', ['nicback install --docker', 'docker run --runtime nicback --network none -e NICBACK_NICS=enp5s0:eth0 IMAGE']],
  ['The same with podman or CRI-O, through the OCI hooks the package installs:', ['podman run --network none --annotation io.nicback.nics=enp5s0:eth0 IMAGE']],
  ['See what a restore by hand would do, then rename every recorded NIC present under another name:', ['nicback restore --dry-run', 'nicback restore --all']],
  ["Metrics for node_exporter's textfile collector (Debian's prometheus-node-exporter reads this directory):", ['nicback metrics --textfile /var/lib/prometheus/node-exporter']],
]

function roff(line) {
  const s = line.replaceAll('\\', '\\e').replaceAll('-', '\\-')
  return /^[.']/.test(s) ? `\\&${s}` : s
}

/** nicback(8). One source: the built CLI's own --help texts (`help(...cmd)`
 *  returns `nicback CMD --help`), set in roff; ENVIRONMENT, EXAMPLES and
 *  FILES are this file's. */
export function manPage({ help, version, date }) {
  const top = help().replace(/\n+$/, '').split('\n')
  const out = [
    `.\\" Generated by scripts/package.mjs from "nicback --help" and "nicback COMMAND --help"; do not edit.`,
    `.TH NICBACK 8 ${date} "nicback ${version}" "System Administration"`,
    '.SH NAME',
    'nicback \\- give a physical NIC its host name back when it returns from a container',
    '.SH SYNOPSIS',
  ]
  const usage = top[0]?.replace(/^Usage:\s*/, '') ?? 'nicback COMMAND [OPTIONS]'
  out.push(`.B ${roff(usage.split(' ')[0])}`, roff(usage.split(' ').slice(1).join(' ')))
  // Top-level text: paragraphs, the command list (two-column lines), and
  // "Section:" blocks. Anything else is kept as it is (no fill).
  const commands = []
  const sections = [['DESCRIPTION', []]]
  for (const line of top.slice(1)) {
    const m = /^ {2}([a-z][a-z-]*) {2,}(\S.*)$/.exec(line)
    const sec = /^([A-Z][A-Za-z ]+):\s*(.*)$/.exec(line)
    if (sec && sec[1] === 'Commands') sections.push(['COMMANDS', []])
    else if (m && sections.at(-1)[0] === 'COMMANDS') commands.push([m[1], m[2]])
    else if (sec && sec[1] === 'Exit status') sections.push(['EXIT STATUS', [sec[2]]])
    else if (sec && !sec[2]) sections.push([sec[1].toUpperCase(), []])
    else sections.at(-1)[1].push(line)
  }
  for (const [name, lines] of sections) {
    // the whole list is below; --help names only what an admin sets
    if (name === 'ENVIRONMENT') continue
    if (name === 'COMMANDS') {
      out.push('.SH COMMANDS')
      for (const [c, summary] of commands) out.push('.TP', `.B ${c}`, roff(summary))
      if (lines.some((l) => l.trim())) out.push('.PP', ...lines.filter((l) => l.trim()).map(roff))
      // every command's own --help, in full
      for (const [c] of commands) {
        out.push(`.SS "nicback ${c}"`, '.nf')
        out.push(
          ...help(c)
            .replace(/\n+$/, '')
            .split('\n')
            .map((l) => (l.trim() === '' ? '' : roff(l))),
        )
        out.push('.fi')
      }
      continue
    }
    const text = lines.join('\n').trim()
    if (!text) continue
    out.push(`.SH ${name.includes(' ') ? `"${name}"` : name}`)
    for (const para of text.split(/\n\s*\n/)) {
      const ls = para.split('\n')
      if (ls.every((l) => /^ {2}\S/.test(l))) {
        for (const l of ls) {
          const [k, ...v] = l.trim().split(/ {2,}/)
          out.push('.TP', `.B ${roff(k)}`, roff(v.join(' ')))
        }
      } else out.push('.PP', ...ls.map((l) => roff(l.trim())))
    }
  }
  out.push('.SH ENVIRONMENT')
  for (const [name, text] of ENVIRONMENT) out.push('.TP', `.B ${roff(name)}`, roff(text))
  out.push('.SH EXAMPLES')
  for (const [what, lines] of EXAMPLES) out.push('.PP', roff(what), '.PP', '.RS', '.nf', ...lines.map(roff), '.fi', '.RE')
  out.push(
    '.SH FILES',
    '.TP',
    `.I ${roff(BIN)}`,
    'the command',
    '.TP',
    `.I ${roff(LIB)}/`,
    "the program: nicback.mjs (the command), nicback\\-udev.cjs and udev/nicback\\-udev\\-front.sh (what the udev rule runs), nicback\\-runtime.mjs (Docker's runtime shim), and the templates nicback install reads",
    '.TP',
    `.I ${roff(RULES)}`,
    'the udev rule: a NIC leaving (remove) is recorded, a NIC coming back (add, move) gets its name back; a file of the same name in /etc/udev/rules.d takes its place',
    '.TP',
    `.I ${roff(UNIT)}`,
    'records every NIC at boot, before any container runtime starts (enabled by the package; its StateDirectory= makes /var/lib/nicback, mode 0700)',
    '.TP',
    `.I ${roff(HOOKS_D)}/50\\-nicback\\-*.json`,
    'OCI hooks for podman and CRI\\-O, for containers annotated io.nicback.nics',
    '.TP',
    '.I /var/lib/nicback/registry.json',
    'the recorded NICs ($NICBACK_STATE_DIR); /var/lib/nicback is removed when the package is purged',
    '.TP',
    '.I /var/lib/nicback/counters.json',
    'the restore counters nicback metrics shows',
    '.TP',
    '.I /var/lib/nicback/install.json',
    "what nicback install wrote (with the package: Docker's shim only), which nicback uninstall removes",
    '.TP',
    '.I /usr/local/sbin/nicback\\-runtime',
    'Docker\'s runtime shim, written by nicback install \\-\\-docker and registered as runtime "nicback" in /etc/docker/daemon.json',
    '.SH NOTES',
    "Installing the Debian package does not change Docker's /etc/docker/daemon.json: register the runtime shim with",
    '.B nicback install \\-\\-docker',
    'when Docker is to give NICs to containers. Removing the package (not upgrading it) takes the shim away again, leaving daemon.json as it was before; if that fails, the removal stops and says how to fix it.',
    '.PP',
    "Installed in a chroot or during a container image build, the package records no NIC (they would be the build host's): nicback\\-record.service records them when the system boots.",
    '.SH "SEE ALSO"',
    '.BR udev (7),',
    '.BR ip\\-link (8),',
    '.BR oci\\-hooks (5),',
    '.BR systemd.unit (5)',
  )
  return `${out.join('\n')}\n`
}

if (invoked(import.meta.url)) main(process.argv.slice(2))
