// `npm run package`: the Debian package nicback_<version>_all.deb, built with
// dpkg-deb from the bundle in dist/ (npm run build) and deploy/debian/:
//   /usr/lib/nicback/                        the bundle (and the templates
//                                            "nicback install" reads)
//   /usr/sbin/nicback                        the command
//   /usr/lib/udev/rules.d/81-nicback.rules   leave/return triggers
//   /usr/lib/systemd/system/nicback-record.service   records NICs at boot
//   /usr/share/containers/oci/hooks.d/50-nicback-{createruntime,poststop}.json
//   /usr/share/man/man8/nicback.8.gz         from the CLI's --help texts
//   /usr/share/doc/nicback/{copyright,changelog.Debian.gz}
// The maintainer scripts (deploy/debian/postinst, prerm, postrm) reload udev,
// enable the unit and record every NIC; remove undoes that, purge also
// removes /var/lib/nicback. /etc (udev, Docker's daemon.json) is left to the
// admin: `nicback install --docker` stays an explicit step, but prerm takes
// its shim away again on remove (daemon.json byte for byte as before), or
// stops the removal saying why: no runtime may be left naming a program gone.
//
//   node scripts/package.mjs [--dist DIR] [--out DIR] [--lintian]
//
// --out defaults to the dist folder; the last stdout line is the .deb's path.
// --lintian runs lintian on it (installed with apt-get when missing) and
// fails on any error.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const repo = fileURLToPath(new URL('..', import.meta.url))
const DEB = join(repo, 'deploy/debian')
const args = process.argv.slice(2)
const opt = (k) => (args.includes(k) ? args[args.indexOf(k) + 1] : undefined)
const dist = resolve(opt('--dist') ?? join(repo, 'dist'))
const outDir = resolve(opt('--out') ?? dist)

// Where the package puts things (the packaging convention: /etc is the admin's).
const LIB = '/usr/lib/nicback'
const BIN = '/usr/sbin/nicback'
const NODE = '/usr/bin/node'
const RULES = '/usr/lib/udev/rules.d/81-nicback.rules'
const UNIT = '/usr/lib/systemd/system/nicback-record.service'
const HOOKS_D = '/usr/share/containers/oci/hooks.d'
const HOOK_FILES = ['50-nicback-createruntime.json', '50-nicback-poststop.json']
const MAN = '/usr/share/man/man8/nicback.8.gz'
const DOC = '/usr/share/doc/nicback'

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

// ------------------------------------------------------------------ version
const upstream = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version
const changelog = readFileSync(join(DEB, 'changelog'), 'utf8')
const head = /^nicback \(([^)]+)\) /.exec(changelog)
if (!head?.[1]) die('deploy/debian/changelog must start with "nicback (VERSION) ..."')
const version = head[1]
if (version.replace(/-[^-]+$/, '') !== upstream) {
  die(`deploy/debian/changelog is at ${version} but package.json at ${upstream}: add a changelog entry`)
}
// Reproducible: every timestamp is the changelog entry's date.
const dateLine = /^ -- .+>  (.+)$/m.exec(changelog)?.[1]
const epoch = Math.floor(new Date(dateLine ?? 0).getTime() / 1000)
if (!Number.isFinite(epoch) || epoch <= 0) die('deploy/debian/changelog: no valid " -- NAME <MAIL>  DATE" line')

// ------------------------------------------------------------------ staging
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
  // the bundle, without earlier packages written into dist/
  cpSync(dist, join(root, LIB), { recursive: true, filter: (src) => !src.endsWith('.deb') })
  for (const f of walk(join(root, LIB))) {
    const text = readFileSync(f)
    chmodSync(f, text.subarray(0, 2).toString() === '#!' ? 0o755 : 0o644)
  }
  put(BIN, `#!/bin/sh\n# nicback(8), from the nicback package.\nexec ${NODE} ${LIB}/nicback.mjs "$@"\n`, 0o755)

  const fill = (template) =>
    template.replaceAll('@NODE@', NODE).replaceAll('@NICBACK@', `${LIB}/nicback.mjs`).replaceAll('@NICBACK_BIN@', BIN).replaceAll('@NICBACK_UDEV@', `${LIB}/nicback-udev.cjs`).replaceAll('@NICBACK_FRONT@', `${LIB}/udev/nicback-udev-front.sh`)
  // The templates say "installed by nicback install"; here dpkg owns the file.
  const packaged = (template, how) => {
    const lines = template.split('\n')
    const i = lines.findIndex((l) => /^# Installed by nicback/.test(l))
    if (i >= 0) {
      let j = i + 1
      while (j < lines.length && lines[j].startsWith('# ') && !/^# *$/.test(lines[j]) && /rewrites|removes|do not edit/.test(lines[j])) j++
      lines.splice(i, j - i, `# Installed by the nicback package; ${how}`)
    }
    return lines.join('\n')
  }
  put(RULES, packaged(fill(readFileSync(join(dist, 'udev/81-nicback.rules'), 'utf8')), 'to change it, copy it to\n# /etc/udev/rules.d/81-nicback.rules (which then takes its place).'))
  put(UNIT, packaged(fill(readFileSync(join(dist, 'udev/nicback-record.service'), 'utf8')), 'override it with "systemctl edit".'))
  for (const f of HOOK_FILES) put(join(HOOKS_D, f), fill(readFileSync(join(dist, 'hooks', f), 'utf8')))

  put(MAN, gzip(manPage()))
  put(join(DOC, 'copyright'), readFileSync(join(DEB, 'copyright')))
  put(join(DOC, 'changelog.Debian.gz'), gzip(changelog))
  if (existsSync(join(DEB, 'lintian-overrides'))) put('/usr/share/lintian/overrides/nicback', readFileSync(join(DEB, 'lintian-overrides')))

  // control files
  const control = join(root, 'DEBIAN')
  mkdirSync(control)
  const files = walk(root).filter((f) => !f.startsWith(control + '/'))
  const installedKb = files.reduce((n, f) => n + Math.ceil(statSync(f).size / 1024), 0) + walkDirs(root).length
  writeFileSync(join(control, 'control'), readFileSync(join(DEB, 'control'), 'utf8').replaceAll('@VERSION@', version).replaceAll('@INSTALLED_SIZE@', String(installedKb)))
  writeFileSync(join(control, 'md5sums'), files.map((f) => `${createHash('md5').update(readFileSync(f)).digest('hex')}  ${relative(root, f)}\n`).sort((a, b) => (a.slice(34) < b.slice(34) ? -1 : 1)).join(''))
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
  if (args.includes('--lintian')) lintian(deb)
  process.stdout.write(`${deb}\n`)
} finally {
  rmSync(stage, { recursive: true, force: true })
}

function lintian(deb) {
  ensureTool('lintian', ['lintian'])
  const r = spawnSync('lintian', ['--info', '--display-info', '--tag-display-limit', '0', deb], { encoding: 'utf8' })
  process.stderr.write(r.stdout + r.stderr)
  if (r.status !== 0 || /^E: /m.test(r.stdout)) die(`lintian reports errors on ${deb}`)
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))
}
function walkDirs(dir) {
  return [dir, ...readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => walkDirs(join(dir, e.name)))]
}
function gzip(text) {
  return gzipSync(Buffer.from(text), { level: 9 }) // no name, mtime 0
}

// ------------------------------------------------------------------ nicback(8)
// One source: the built CLI's own --help texts, set in roff.
function help(...cmd) {
  return execFileSync(process.execPath, [join(dist, 'nicback.mjs'), ...cmd, '--help'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
}
function roff(line) {
  const s = line.replaceAll('\\', '\\e').replaceAll('-', '\\-')
  return /^[.']/.test(s) ? `\\&${s}` : s
}
function manPage() {
  const top = help().replace(/\n+$/, '').split('\n')
  const date = new Date(epoch * 1000).toISOString().slice(0, 10)
  const out = [
    `.\\" Generated by scripts/package.mjs from "nicback --help" and "nicback COMMAND --help"; do not edit.`,
    `.TH NICBACK 8 ${date} "nicback ${upstream}" "System Administration"`,
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
    if (name === 'COMMANDS') {
      out.push('.SH COMMANDS')
      for (const [c, summary] of commands) out.push('.TP', `.B ${c}`, roff(summary))
      if (lines.some((l) => l.trim())) out.push('.PP', ...lines.filter((l) => l.trim()).map(roff))
      // every command's own --help, in full
      for (const [c] of commands) {
        out.push(`.SS "nicback ${c}"`, '.nf')
        out.push(...help(c).replace(/\n+$/, '').split('\n').map((l) => (l.trim() === '' ? '' : roff(l))))
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
  out.push(
    '.SH FILES',
    '.TP', `.I ${roff(BIN)}`, 'the command',
    '.TP', `.I ${roff(LIB)}/`, 'the program (nicback\\-udev.cjs is what the udev rule runs)',
    '.TP', `.I ${roff(RULES)}`, 'the udev rule: a NIC leaving (remove) is recorded, a NIC coming back (add, move) gets its name back; a file of the same name in /etc/udev/rules.d takes its place',
    '.TP', `.I ${roff(UNIT)}`, 'records every NIC at boot, before any container runtime starts (enabled by the package)',
    '.TP', `.I ${roff(HOOKS_D)}/50\\-nicback\\-*.json`, 'OCI hooks for podman and CRI\\-O, for containers annotated io.nicback.nics',
    '.TP', '.I /var/lib/nicback/registry.json', 'the recorded NICs ($NICBACK_STATE_DIR); removed when the package is purged',
    '.SH NOTES',
    'Installing the Debian package does not change Docker\'s /etc/docker/daemon.json: register the runtime shim with',
    '.B nicback install \\-\\-docker',
    'when Docker is to give NICs to containers. Removing the package (not upgrading it) takes the shim away again, leaving daemon.json as it was before; if that fails, the removal stops and says how to fix it.',
    '.SH "SEE ALSO"',
    '.BR udev (7),',
    '.BR ip\\-link (8),',
    '.BR oci\\-hooks (5),',
    '.BR systemd.unit (5)',
  )
  return `${out.join('\n')}\n`
}
