// Issue 18, the package: what scripts/package.mjs writes into the .deb,
// without building one (test/pkg/package.test.ts builds and inspects it):
// the control file (Homepage, Maintainer, Depends from package.json's
// engines), the boot unit, the udev rule's paths, and nicback(8), whose
// ENVIRONMENT must list exactly the variables the source reads (found by
// scanning it) and whose EXAMPLES use only options the commands have.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { controlFile, ENVIRONMENT, EXAMPLES, fill, manPage, nodeDepends, PATHS, rulesFile, unitFile } from '../../../scripts/package.mjs'

const REPO = fileURLToPath(new URL('../../..', import.meta.url))
const read = (p: string) => readFileSync(join(REPO, p), 'utf8')
const pkg = JSON.parse(read('package.json')) as { version: string; homepage?: string; repository?: { url?: string }; engines: { node: string } }
const control = () => controlFile(read('deploy/debian/control'), { version: '0.1.0-9', installedKb: 1, pkg })
const field = (text: string, name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(text)?.[1]

describe('the control file', () => {
  it("Depends on nodejs as package.json's engines says, said only there", () => {
    expect(pkg.engines.node).toBe('>=18')
    expect(field(control(), 'Depends')).toBe('nodejs (>= 18), iproute2')
    // the template names no version of its own
    expect(read('deploy/debian/control')).not.toMatch(/nodejs \(/)
    expect(controlFile(read('deploy/debian/control'), { version: '1', installedKb: 1, pkg: { ...pkg, engines: { node: '>= 20.19.0' } } })).toMatch(/^Depends: nodejs \(>= 20\.19\.0\), iproute2$/m)
    expect(nodeDepends('>=22')).toBe('nodejs (>= 22)')
    for (const range of ['^18', '18 || 20', '>=18 <27', '*', undefined]) expect(() => nodeDepends(range), String(range)).toThrow(/lower bound/)
  })

  it('that node is the oldest the build targets and the package tier runs', () => {
    const oldest = /^>=(\d+)$/.exec(pkg.engines.node)?.[1]
    expect(/const MAJORS = \[(\d+),/.exec(read('test/pkg/nodes.test.ts'))?.[1]).toBe(oldest)
    // the build's esbuild target comes from engines too
    expect(read('scripts/build.mjs')).toContain('const TARGET = `node${oldest}`')
    expect(read('scripts/build.mjs')).not.toMatch(/'node1\d'/)
  })

  it("has a Homepage (package.json's) and the repository's Maintainer, the one who signs the changelog", () => {
    const c = control()
    expect(pkg.homepage).toMatch(/^https:\/\//)
    expect(field(c, 'Homepage')).toBe(pkg.homepage)
    expect(pkg.repository?.url?.startsWith(pkg.homepage!)).toBe(true)
    const maintainer = field(c, 'Maintainer')
    expect(maintainer).toMatch(/^[^<>]+ <[^@<>\s]+@[^@<>\s]+\.[a-z]+>$/)
    expect(maintainer).not.toMatch(/^nicback maintainers/)
    expect(/^ -- (.+>) {2}/m.exec(read('deploy/debian/changelog'))?.[1]).toBe(maintainer)
    expect(c).not.toMatch(/@[A-Z_]+@/)
  })
})

describe("the package's paths", () => {
  it('the bundle is in /usr/libexec/nicback, the command /usr/sbin/nicback', () => {
    expect(PATHS.LIB).toBe('/usr/libexec/nicback')
    expect(PATHS.BIN).toBe('/usr/sbin/nicback')
    // nicback install knows where the package puts it (then it adds only Docker's shim)
    expect(/const PACKAGED_LIB = '([^']+)'/.exec(read('scripts/lib/runtimes/install.ts'))?.[1]).toBe(PATHS.LIB)
    // prerm knows a shim that runs the package's program, in its new place and its old
    const prermCheck = /grep -qsE '([^']+)' "\$SHIM"/.exec(read('deploy/debian/prerm'))?.[1] ?? ''
    for (const lib of [PATHS.LIB, '/usr/lib/nicback']) expect(`exec /usr/bin/node ${lib}/nicback-runtime.mjs "$@"`).toMatch(new RegExp(prermCheck))
    expect('exec /usr/bin/node /usr/local/lib/nicback/nicback-runtime.mjs "$@"').not.toMatch(new RegExp(prermCheck))
  })

  it("the udev rule runs the front from there, with Debian's node", () => {
    const rules = rulesFile(read('udev/81-nicback.rules'))
    expect(rules).toMatch(/^RUN\+="\/bin\/sh \/usr\/libexec\/nicback\/udev\/nicback-udev-front\.sh \/usr\/bin\/node"$/m)
    expect(rules).toMatch(/^# Installed by the nicback package/m)
    for (const f of ['50-nicback-createruntime.json', '50-nicback-poststop.json']) {
      expect(JSON.parse(fill(read(`hooks/${f}`))).hook.path, f).toBe('/usr/sbin/nicback')
    }
  })

  it('the boot unit: Documentation=man:nicback(8), StateDirectory=nicback mode 0700', () => {
    const unit = unitFile(read('udev/nicback-record.service'))
    expect(unit).toMatch(/^Documentation=man:nicback\(8\) man:udev\(7\)$/m)
    expect(unit).toMatch(/^StateDirectory=nicback$/m)
    expect(unit).toMatch(/^StateDirectoryMode=0700$/m)
    expect(unit).toMatch(/^ExecStart=\/usr\/sbin\/nicback record --boot$/m)
    // the same directory nicback uses by default (paths.ts)
    expect(read('scripts/lib/system/paths.ts')).toContain("process.env.NICBACK_STATE_DIR || '/var/lib/nicback'")
    // once only, however often it is filled
    expect(unitFile(unit).match(/man:nicback\(8\)/g)).toHaveLength(1)
  })
})

// ------------------------------------------------------------------ nicback(8)
/** Every file the program runs from: the TypeScript and the udev front. */
function sources(): string[] {
  const walk = (dir: string): string[] => readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))
  return [...walk('scripts').filter((f) => f.endsWith('.ts')), ...walk('udev').filter((f) => f.endsWith('.sh'))]
}

/** The environment variables `text` reads: process.env.X and
 *  process.env['X'], X of a parameter named env (env.X, env['X'], and names
 *  destructured from it), every NICBACK_ name (the OCI hook's NICBACK_NICS
 *  is a constant; @NICBACK_BIN@ and the like are template placeholders), and
 *  in shell, $X and ${X...}. */
function envRead(text: string, shell: boolean): Set<string> {
  const names = new Set<string>()
  const add = (re: RegExp, t: string) => {
    for (const m of t.matchAll(re)) names.add((m[1] ?? m[2])!)
  }
  if (shell) {
    add(/\$\{?([A-Z_][A-Z0-9_]*)/g, text)
    return names
  }
  add(/\bprocess\.env(?:\.([A-Z_][A-Z0-9_]*)|\[\s*['"]([A-Z_][A-Z0-9_]*)['"]\s*\])/g, text)
  add(/\benv\??\.([A-Z_][A-Z0-9_]*)\b/g, text)
  add(/\benv\[\s*['"]([A-Z_][A-Z0-9_]*)['"]\s*\]/g, text)
  for (const m of text.matchAll(/\{([^{}]*)\}\s*=\s*(?:process\.)?env\b/g)) add(/(?:^|[{,\s])([A-Z_][A-Z0-9_]*)\s*(?=[:,}]|$)/g, m[1]!)
  add(/(?<![@A-Z0-9_])(NICBACK_[A-Z0-9_]+)(?![@A-Z0-9_])/g, text)
  return names
}

/** What the program reads, all its files together. */
const programReads = () => new Set(sources().flatMap((f) => [...envRead(read(f), f.endsWith('.sh'))]))

/** The names of a man page section's .TP entries. */
function section(man: string, name: string): string[] {
  const body = man.split(/^\.SH /m).find((s) => s.startsWith(name)) ?? ''
  return [...body.matchAll(/^\.TP\n\.B (\S+)$/gm)].map((m) => m[1]!.replaceAll('\\-', '-'))
}

const TOP = read('scripts/nicback.ts')
/** A stand-in for the CLI's --help texts: the real top-level one's sections. */
const help = (...cmd: string[]) =>
  cmd.length > 0 ? `Usage: nicback ${cmd[0]}\n` : `Usage: nicback COMMAND [OPTIONS]\n\nIt does things.\n\nCommands:\n  status     show\n\n${/^Environment:\n(?: {2}.*\n)+/m.exec(TOP)?.[0] ?? ''}\nExit status: 0 done.\n`

describe('nicback(8)', () => {
  const man = manPage({ help, version: pkg.version, date: '2026-12-06' })

  it('ENVIRONMENT lists every variable the source reads, and no other', () => {
    const read = programReads()
    // the scan finds what it must (if these go, the scan is broken, not the page)
    for (const n of ['NICBACK_STATE_DIR', 'NICBACK_LOCK_WAIT', 'NICBACK_HOOK_STAGE', 'NICBACK_HOOK_TIMEOUT', 'NICBACK_NICS', 'NICBACK_RUNTIME', 'ACTION', 'DEVPATH_OLD', 'SEQNUM', 'USEC_INITIALIZED', 'PATH']) expect(read, n).toContain(n)
    expect([...read].filter((n) => !/^[A-Z_][A-Z0-9_]*$/.test(n))).toEqual([])
    const listed = ENVIRONMENT.map(([n]) => n)
    expect(new Set(listed).size).toBe(listed.length)
    expect([...listed].sort()).toEqual([...read].sort())
    expect(section(man, 'ENVIRONMENT')).toEqual(listed)
    // what the top-level --help names is on the page, once
    const inHelp = [...(/^Environment:\n((?: {2}.*\n)+)/m.exec(TOP)?.[1] ?? '').matchAll(/^ {2}([A-Z_]+)/gm)].map((m) => m[1]!)
    expect(inHelp.length).toBeGreaterThan(0)
    for (const n of inHelp) expect(listed).toContain(n)
    expect(man.match(/^\.SH ENVIRONMENT$/gm)).toHaveLength(1)
  })

  it('the scan sees reads of each kind', () => {
    const scan = (text: string, shell = false) => [...envRead(text, shell)].sort()
    expect(scan("const a = process.env.A_B; const b = process.env['C']")).toEqual(['A_B', 'C'])
    expect(scan('function f(env = process.env) { return env.D ?? env?.E }')).toEqual(['D', 'E'])
    expect(scan('const { ACTION: action, INTERFACE } = env')).toEqual(['ACTION', 'INTERFACE'])
    expect(scan("export const NICS_ENV = 'NICBACK_NICS'; fill('@NICBACK_BIN@')")).toEqual(['NICBACK_NICS'])
    expect(scan('const x = { ...process.env, SYSTEMD_IGNORE_CHROOT: "1" }')).toEqual([])
    expect(scan('state=${NICBACK_STATE_DIR:-/var/lib/nicback}\ncase $ACTION in\nPATH=/usr/bin\n', true)).toEqual(['ACTION', 'NICBACK_STATE_DIR'])
  })

  it("has EXAMPLES whose commands and options are nicback's own", async () => {
    expect(man).toMatch(/^\.SH EXAMPLES$/m)
    let lines = 0
    for (const [, cmds] of EXAMPLES) {
      for (const line of cmds.filter((l) => l.startsWith('nicback '))) {
        const [, cmd, ...rest] = line.split(/\s+/)
        const mod = (await import(`../../../scripts/commands/${cmd}.ts`)) as { default: { help: string } }
        for (const o of rest.filter((a) => a.startsWith('--'))) expect(mod.default.help, `${line}: ${o}`).toContain(o)
        lines++
      }
      for (const line of cmds) expect(man, line).toContain(line.replaceAll('-', '\\-'))
    }
    expect(lines).toBeGreaterThanOrEqual(6)
  })

  it('has FILES naming where the package puts things and what nicback writes', () => {
    const files = section(man.replaceAll(/^\.I /gm, '.B '), 'FILES')
    for (const p of [PATHS.BIN, `${PATHS.LIB}/`, PATHS.RULES, PATHS.UNIT, '/var/lib/nicback/registry.json', '/var/lib/nicback/install.json', '/usr/local/sbin/nicback-runtime']) expect(files).toContain(p)
    expect(man).not.toContain('/usr/lib/nicback')
  })
})
