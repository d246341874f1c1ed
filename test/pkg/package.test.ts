// Issue 18, the package: the .deb scripts/package.mjs builds from dist/,
// taken apart (dpkg-deb -x, -e) and inspected: its control fields, where it
// puts things, the unit, nicback(8); then its maintainer scripts, run in a
// private mount and PID namespace (/run a tmpfs, /usr/local/sbin, /etc,
// /var/lib and /usr/libexec overlays or tmpfs: nothing reaches the machine)
// with stand-ins for nicback, deb-systemd-helper, systemctl and udevadm that
// only note how they were called:
//   - postinst records NICs only where a system runs: not in a container
//     image build (PID 1 is a shell), not in a chroot (with or without
//     /proc), but where PID 1 is an init (a system container) or systemd
//     runs; where it does not, one line says so and how to do it later;
//   - an upgrade from 0.1.0-1 points Docker's shim at /usr/libexec/nicback;
//   - postrm masks the unit on remove and forgets it on purge (as
//     dh_installsystemd does), never purging it on a mere remove;
//   - nicback run from /usr/libexec/nicback knows it is the package's.
// The real deb-systemd-helper, dpkg and apt are the VM tier's
// (test/vm/package.test.ts).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ENVIRONMENT } from '../../scripts/package.mjs'
import { requireRoot } from '../netns/world.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const DIST = process.env.NBT_DIST ?? join(REPO, 'dist')
const run = process.getuid?.() === 0 || process.env.CI === 'true'
const UNIT = 'nicback-record.service'

let t = ''
let deb = ''
let x = ''
const sh = (cmd: string) => {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`)
  return r.stdout
}

/** Runs in `unshare -m -p -f --mount-proc`: PID 1 is this bash. $1 the
 *  unpacked package, $2 the results folder. Each step leaves STEP.rc, .out,
 *  .err and .calls (one line per stand-in call: "NAME ARGS"). */
const SANDBOX = String.raw`
set -eu
X=$1 T=$2
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /usr/local/sbin
for d in /etc /var/lib /usr/libexec; do
  u=$T/over$(echo "$d" | tr / _)
  mkdir -p "$u/upper" "$u/work"
  mount -t overlay overlay -o "lowerdir=$d,upperdir=$u/upper,workdir=$u/work" "$d"
done
mkdir -p "$T/stub"
for s in nicback deb-systemd-helper systemctl udevadm; do
  printf '#!/bin/sh\necho "%s $*" >>"$NBT_LOG"\n' "$s" >"$T/stub/$s"
  chmod 0755 "$T/stub/$s"
done
export PATH="$T/stub:$PATH"
step() { # step NAME CMD...: NBT_LOG=$T/NAME.calls
  n=$1; shift
  : >"$T/$n.calls"
  set +e; NBT_LOG=$T/$n.calls "$@" >"$T/$n.out" 2>"$T/$n.err"; echo $? >"$T/$n.rc"; set -e
}

# An image build: PID 1 is the build step's shell (here: this bash).
step build sh "$X/DEBIAN/postinst" configure

# A chroot (its own root filesystem: an overlay of this one), /proc mounted.
R=$T/chroot
mkdir -p "$R" "$T/cu/upper" "$T/cu/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$T/cu/upper,workdir=$T/cu/work" "$R"
mount --rbind /proc "$R/proc"
mount --rbind /sys "$R/sys"
mkdir -p "$R/nbt"
cp "$T"/stub/* "$X/DEBIAN/postinst" "$R/nbt/"
in_chroot() { chroot "$R" /bin/sh -c 'PATH=/nbt:$PATH NBT_LOG=/nbt/calls sh /nbt/postinst configure; r=$?; cat /nbt/calls 2>/dev/null >&3; exit $r' 3>>"$NBT_LOG"; }
step chroot in_chroot
# ... and without /proc (debootstrap's first stage, a bare chroot)
umount -l "$R/proc"
step chroot-noproc in_chroot

# Upgrades from 0.1.0-1, whose "nicback install --docker" wrote a shim
# running /usr/lib/nicback/nicback-runtime.mjs.
printf '#!/bin/sh\n# Installed by nicback; do not edit.\n    NICBACK_HOOK_BIN=/usr/sbin/nicback exec /usr/bin/node /usr/lib/nicback/nicback-runtime.mjs "$@"\nexec "$rt" "$@"\n' >/usr/local/sbin/nicback-runtime
chmod 0755 /usr/local/sbin/nicback-runtime
step upgrade sh "$X/DEBIAN/postinst" configure 0.1.0-1
cp -p /usr/local/sbin/nicback-runtime "$T/upgrade.shim"
stat -c %a /usr/local/sbin/nicback-runtime >"$T/upgrade.mode"
# a shim of nicback installed in /usr/local is not the package's
sed -i 's#/usr/libexec/nicback/#/usr/local/lib/nicback/#' /usr/local/sbin/nicback-runtime
step upgrade-local sh "$X/DEBIAN/postinst" configure 0.1.0-1
cp /usr/local/sbin/nicback-runtime "$T/upgrade-local.shim"
rm -f /usr/local/sbin/nicback-runtime

# A system container: PID 1 is an init.
printf init >/proc/$$/comm
step init sh "$X/DEBIAN/postinst" configure
printf bash >/proc/$$/comm
# ... or systemd runs (here: says it does)
mkdir -p /run/systemd/system
step systemd sh "$X/DEBIAN/postinst" configure
rmdir /run/systemd/system

# postrm, remove then purge
mkdir -p /var/lib/nicback && echo '{}' >/var/lib/nicback/registry.json
step remove sh "$X/DEBIAN/postrm" remove
[ -e /var/lib/nicback/registry.json ] && echo kept >"$T/remove.registry"
step purge sh "$X/DEBIAN/postrm" purge
[ -e /var/lib/nicback ] || echo gone >"$T/purge.registry"

# nicback from where the package puts it: "install" adds only Docker's shim
cp -a "$X/usr/libexec/nicback" /usr/libexec/
rm -rf /var/lib/nicback /etc/docker
step pkg-install "$NODE" /usr/libexec/nicback/nicback.mjs install
step pkg-docker "$NODE" /usr/libexec/nicback/nicback.mjs install --docker
cp /usr/local/sbin/nicback-runtime "$T/pkg-docker.shim" 2>/dev/null || true
cp /var/lib/nicback/install.json "$T/pkg-docker.manifest" 2>/dev/null || true
`

describe.skipIf(!run)('the Debian package', () => {
  beforeAll(() => {
    requireRoot()
    if (!existsSync(join(DIST, 'nicback.mjs'))) throw new Error(`no ${DIST}/nicback.mjs: npm run build first`)
    t = mkdtempSync(join(tmpdir(), 'nicback-pkgtest-'))
    const r = spawnSync(process.execPath, [join(REPO, 'scripts/package.mjs'), '--dist', DIST, '--out', t], { encoding: 'utf8' })
    deb = r.stdout.trim().split('\n').at(-1) ?? ''
    if (r.status !== 0 || !deb.endsWith('.deb')) throw new Error(`scripts/package.mjs failed:\n${r.stderr}${r.stdout}`)
    x = join(t, 'x')
    sh(`dpkg-deb -x ${deb} ${x} && dpkg-deb -e ${deb} ${x}/DEBIAN`)
  }, 120_000)
  afterAll(() => {
    if (t) rmSync(t, { recursive: true, force: true })
  })

  test("control: Depends from package.json's engines, Homepage, Maintainer", () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'))
    const f = (name: string) => sh(`dpkg-deb -f ${deb} ${name}`).trim()
    expect(pkg.engines.node).toBe('>=18')
    expect(f('Depends')).toBe('nodejs (>= 18), iproute2')
    expect(f('Homepage')).toBe(pkg.homepage)
    expect(f('Maintainer')).toBe('Seed fc6a14ae maintainers <maintainers@users.noreply.h-seed-fc6a14ae.example>')
    expect(f('Version')).toMatch(new RegExp(`^${pkg.version.replaceAll('.', '\\.')}-\\d+$`))
  })

  test('the bundle in /usr/libexec/nicback, the command in /usr/sbin, the rule and the unit pointing there', () => {
    const files = sh(`dpkg-deb -c ${deb}`)
      .split('\n')
      .map((l) => l.split(/\s+/)[5])
      .filter(Boolean)
    for (const p of ['nicback.mjs', 'nicback-udev.cjs', 'nicback-runtime.mjs', 'udev/nicback-udev-front.sh', 'hooks/50-nicback-createruntime.json']) expect(files).toContain(`./usr/libexec/nicback/${p}`)
    expect(files.filter((p) => p!.startsWith('./usr/lib/nicback'))).toEqual([])
    expect(files.filter((p) => /\.(deb|tar)$/.test(p!))).toEqual([])
    expect(readFileSync(join(x, 'usr/sbin/nicback'), 'utf8')).toContain('exec /usr/bin/node /usr/libexec/nicback/nicback.mjs "$@"')
    expect(readFileSync(join(x, 'usr/lib/udev/rules.d/81-nicback.rules'), 'utf8')).toMatch(/^RUN\+="\/bin\/sh \/usr\/libexec\/nicback\/udev\/nicback-udev-front\.sh \/usr\/bin\/node"$/m)
    const unit = readFileSync(join(x, 'usr/lib/systemd/system', UNIT), 'utf8')
    expect(unit).toMatch(/^Documentation=man:nicback\(8\)/m)
    expect(unit).toMatch(/^StateDirectory=nicback$/m)
    expect(unit).toMatch(/^StateDirectoryMode=0700$/m)
    expect(unit).toMatch(/^ExecStart=\/usr\/sbin\/nicback record --boot$/m)
  })

  test('the bash completion in /usr/share/bash-completion/completions, the one `nicback completion bash` prints; not in the bundle', () => {
    const shipped = readFileSync(join(x, 'usr/share/bash-completion/completions/nicback'), 'utf8')
    expect(shipped).toBe(sh(`${process.execPath} ${join(DIST, 'nicback.mjs')} completion bash`))
    expect(shipped).toMatch(/complete -F \S+ nicback/)
    expect(existsSync(join(x, 'usr/libexec/nicback/nicback.bash-completion'))).toBe(false)
  })

  test('nicback(8): ENVIRONMENT (every variable, from the real --help), EXAMPLES, FILES', () => {
    const man = sh(`zcat ${join(x, 'usr/share/man/man8/nicback.8.gz')}`)
    const env = man.split(/^\.SH /m).find((s) => s.startsWith('ENVIRONMENT')) ?? ''
    expect([...env.matchAll(/^\.TP\n\.B (\S+)$/gm)].map((m) => m[1])).toEqual(ENVIRONMENT.map(([n]) => n))
    for (const s of ['ENVIRONMENT', 'EXAMPLES', 'FILES', 'COMMANDS', '"EXIT STATUS"']) expect(man.match(new RegExp(`^\\.SH ${s}$`, 'gm')), s).toHaveLength(1)
    expect(man).toContain('.I /usr/libexec/nicback/')
    const r = spawnSync('man', ['--warnings', '-l', '-Tutf8', join(x, 'usr/share/man/man8/nicback.8.gz')], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80' } })
    if (r.error === undefined) {
      expect(r.status, r.stderr).toBe(0)
      expect(r.stderr).toBe('')
      expect(r.stdout).toContain('NICBACK_LOCK_WAIT')
    }
  })

  describe('the maintainer scripts', () => {
    const steps: Record<string, { rc: number; out: string; err: string; calls: string[] }> = {}
    const extra = (n: string) => (existsSync(join(t, n)) ? readFileSync(join(t, n), 'utf8') : null)
    beforeAll(() => {
      const r = spawnSync('unshare', ['-m', '--propagation', 'private', '-p', '-f', '--mount-proc', 'bash', '-c', SANDBOX, 'sandbox', x, t], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, NODE: process.execPath },
      })
      if (r.status !== 0) throw new Error(`the sandbox failed (${r.status}):\n${r.stderr}${r.stdout}`)
      for (const n of ['build', 'chroot', 'chroot-noproc', 'upgrade', 'upgrade-local', 'init', 'systemd', 'remove', 'purge', 'pkg-install', 'pkg-docker']) {
        const f = (ext: string) => readFileSync(join(t, `${n}.${ext}`), 'utf8')
        steps[n] = { rc: Number(f('rc')), out: f('out'), err: f('err'), calls: f('calls').split('\n').filter(Boolean) }
      }
    }, 180_000)
    const records = (n: string) => steps[n]!.calls.filter((c) => c.startsWith('nicback record'))

    test('postinst in an image build (PID 1 a shell): the unit enabled, no NIC recorded, one line saying so and how to later', () => {
      const s = steps.build!
      expect(s.rc, s.err).toBe(0)
      expect(records('build')).toEqual([])
      expect(s.calls).toContain(`deb-systemd-helper enable ${UNIT}`)
      expect(s.err).toBe(`nicback: NICs not recorded: no init runs in this container (PID 1 is "bash": an image build?). ${UNIT} records them when the system boots, or run "nicback record" on it.\n`)
    })

    test('postinst in a chroot, with /proc or without: no NIC recorded, saying why', () => {
      for (const [n, why] of [
        ['chroot', "this root is not PID 1's (a chroot)"],
        ['chroot-noproc', 'no /proc here (a chroot?)'],
      ] as const) {
        const s = steps[n]!
        expect(s.rc, `${n}: ${s.err}`).toBe(0)
        expect(s.calls, n).toContain(`deb-systemd-helper enable ${UNIT}`)
        expect(records(n), n).toEqual([])
        expect(s.err, n).toContain(`nicback: NICs not recorded: ${why}. `)
        expect(s.err.split('\n').filter(Boolean), n).toHaveLength(1)
      }
    })

    test('postinst where a system runs (PID 1 an init, or systemd): every NIC recorded', () => {
      for (const n of ['init', 'systemd']) {
        const s = steps[n]!
        expect(s.rc, `${n}: ${s.err}`).toBe(0)
        expect(records(n), n).toEqual(['nicback record'])
        expect(s.err, n).not.toContain('not recorded')
      }
      expect(steps.systemd!.calls).toContain('systemctl --system daemon-reload')
    })

    test("an upgrade from 0.1.0-1 points Docker's shim at /usr/libexec/nicback; a shim of /usr/local's nicback is left alone", () => {
      const s = steps.upgrade!
      expect(s.rc, s.err).toBe(0)
      const shim = extra('upgrade.shim') ?? ''
      expect(shim).toContain('exec /usr/bin/node /usr/libexec/nicback/nicback-runtime.mjs "$@"')
      expect(shim).not.toContain('/usr/lib/nicback/')
      expect(extra('upgrade.mode')?.trim()).toBe('755')
      expect(s.err).toContain("Docker's runtime shim /usr/local/sbin/nicback-runtime now runs /usr/libexec/nicback/nicback-runtime.mjs")
      expect(steps['upgrade-local']!.rc).toBe(0)
      expect(extra('upgrade-local.shim')).toContain('exec /usr/bin/node /usr/local/lib/nicback/nicback-runtime.mjs "$@"')
      expect(steps['upgrade-local']!.err).not.toContain('now runs')
    })

    test('postrm: remove masks the unit (its state kept for a reinstall), purge forgets it and the registry', () => {
      const remove = steps.remove!
      expect(remove.rc, remove.err).toBe(0)
      expect(remove.calls.filter((c) => c.startsWith('deb-systemd-helper'))).toEqual([`deb-systemd-helper mask ${UNIT}`])
      expect(extra('remove.registry')?.trim()).toBe('kept')
      const purge = steps.purge!
      expect(purge.rc, purge.err).toBe(0)
      expect(purge.calls.filter((c) => c.startsWith('deb-systemd-helper'))).toEqual([`deb-systemd-helper purge ${UNIT}`, `deb-systemd-helper unmask ${UNIT}`])
      expect(extra('purge.registry')?.trim()).toBe('gone')
    })

    test("nicback run from /usr/libexec/nicback is the package's: install adds only Docker's shim, which runs it", () => {
      const i = steps['pkg-install']!
      expect(i.rc, i.err).toBe(0)
      expect(i.out).toContain('nicback is installed by its Debian package')
      const d = steps['pkg-docker']!
      expect(d.rc, d.err).toBe(0)
      const shim = extra('pkg-docker.shim') ?? ''
      expect(shim).toContain('/usr/libexec/nicback/nicback-runtime.mjs "$@"')
      expect(shim).toContain('NICBACK_HOOK_BIN=/usr/sbin/nicback')
      expect(JSON.parse(extra('pkg-docker.manifest') ?? '{}').files).toEqual(['/usr/local/sbin/nicback-runtime'])
    })
  })
})
