// The built CLI, spawned as a user would run it: usage errors, help, exit
// codes. Nothing here records, restores or installs: no system effects (the
// registry lives in a temporary directory). Built by bundle.ts into a
// temporary folder with the same esbuild shape as `npm run build`, which
// would delete dist/ under a netns or vm tier running at the same time.
import { describe, expect, it } from 'vitest'
import { nicback, useBuiltNicback } from './nicback.js'

useBuiltNicback()

describe('usage', () => {
  it('no arguments: usage on stdout, exit 2', () => {
    const r = nicback()
    expect(r.code).toBe(2)
    expect(r.out).toContain('Usage: nicback COMMAND [OPTIONS]')
  })

  it('--help, -h and help: usage, exit 0, every command listed', () => {
    for (const flag of ['--help', '-h', 'help']) {
      const r = nicback(flag)
      expect(r.code, flag).toBe(0)
      for (const cmd of ['status', 'record', 'restore', 'forget', 'demo', 'install', 'uninstall']) expect(r.out).toMatch(new RegExp(`^  ${cmd} +\\S`, 'm'))
    }
  })

  it('--version', () => {
    const r = nicback('--version')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^nicback \d+\.\d+\.\d+\n$/)
  })

  it('--version and -V are in the help (issue 18)', () => {
    expect(nicback('--help').out).toMatch(/^ {2}-V, --version +\S/m)
    expect(nicback('-V').out).toBe(nicback('--version').out)
  })

  it('a mistyped command, also after "help" (not the general help then): exit 2, the nearest named (issue 18)', () => {
    const stauts = { code: 2, out: '', err: 'nicback: unknown command "stauts"; did you mean "status"?\nRun "nicback --help" for the list of commands.\n' }
    expect(nicback('stauts')).toEqual(stauts)
    expect(nicback('help', 'stauts')).toEqual(stauts)
    expect(nicback('restor').err).toContain('did you mean "restore"?')
    expect(nicback('--verison').err).toContain('did you mean "--version"?')
    expect(nicback('frobnicate').err).not.toContain('did you mean')
  })

  it("a mistyped option: exit 2, the nearest of that command's options named (issue 18)", () => {
    expect(nicback('restore', '--dryrun')).toEqual({ code: 2, out: '', err: `nicback restore: Unknown option '--dryrun'; did you mean "--dry-run"?\nRun "nicback restore --help" for usage.\n` })
    // --from is release's, not assign's: not offered to assign
    expect(nicback('assign', 'eth0', '--form', 'x').err).not.toContain('--from')
  })

  it('unknown command: exit 2, named', () => {
    const r = nicback('frobnicate')
    expect(r.code).toBe(2)
    expect(r.err).toContain('unknown command "frobnicate"')
    expect(r.out).toBe('')
  })

  it('unknown option: exit 2, the option named, usage hint', () => {
    const r = nicback('restore', '--bogus')
    expect(r.code).toBe(2)
    expect(r.err).toContain("'--bogus'")
    expect(r.err).toContain('Run "nicback restore --help" for usage.')
  })

  it('restore with names and --all: exit 2', () => {
    const r = nicback('restore', 'eth0', '--all')
    expect(r.code).toBe(2)
    expect(r.err).toContain('give IFACE names or --all, not both')
  })

  it('forget without a name: exit 2', () => {
    const r = nicback('forget')
    expect(r.code).toBe(2)
    expect(r.err).toContain('name the NIC(s) to forget')
  })

  it('status takes no positional argument: exit 2', () => {
    const r = nicback('status', 'eth0')
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/nicback status: .*eth0/)
  })
})

describe('no option that does nothing (issue 18)', () => {
  it('--json is refused where nothing is printed as JSON', () => {
    for (const args of [
      ['demo', '--json'],
      ['hook', '--stage', 'poststop', '--json'],
      ['udev', '--json'],
      ['completion', 'bash', '--json'],
    ]) {
      const r = nicback(...args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.err, args.join(' ')).toContain("Unknown option '--json'")
    }
  })

  it("every command's options are in its help, and its usage line names no other", () => {
    const script = nicback('completion', 'bash').out
    const listed = [...nicback('--help').out.matchAll(/^ {2}([a-z-]+) {2,}\S/gm)].map((m) => m[1]!)
    for (const cmd of listed) {
      const flags = new RegExp(`^ {4}${cmd}\\) flags='([^']*)'`, 'm').exec(script)?.[1]?.split(' ')
      expect(flags, `${cmd} in the completion`).toBeDefined()
      const help = nicback(cmd, '--help').out
      for (const f of flags!) expect(help, `${cmd} --help mentions ${f}`).toContain(f === '--help' ? 'Usage:' : f)
      const usage = help.slice(0, help.indexOf('\n\n'))
      for (const f of usage.match(/--[a-z-]+/g) ?? []) expect(flags, `${cmd}: ${f} in its usage is an option`).toContain(f)
    }
  }, 30_000)
})

describe('completion (issue 18)', () => {
  it('"completion bash": every command of the help, hidden udev not, exit 0', () => {
    const r = nicback('completion', 'bash')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^complete -F _nicback nicback$/m)
    const listed = [...nicback('--help').out.matchAll(/^ {2}([a-z-]+) {2,}\S/gm)].map((m) => m[1]!)
    const words = /COMP_CWORD == 1\)\); then\n\s+mapfile -t COMPREPLY < <\(compgen -W '([^']*)'/.exec(r.out)![1]!.split(' ')
    expect(words).toEqual([...listed, 'help', '--help', '--version'])
    expect(words).not.toContain('udev')
  })

  it('another shell or none: exit 2', () => {
    expect(nicback('completion', 'zsh').code).toBe(2)
    expect(nicback('completion').code).toBe(2)
  })
})

describe('per-command help', () => {
  const options: Record<string, string[]> = {
    status: ['--json', 'recordedName'],
    record: ['IFACE', '--force', '--boot', '--json'],
    restore: ['IFACE', '--all', '--dry-run', '--json'],
    forget: ['IFACE'],
    install: ['--root', '--no-record'],
    uninstall: ['--root', '--purge'],
    demo: ['nbdemo'],
  }

  it('every listed command answers --help with exit 0 and its usage', () => {
    const listed = [...nicback('--help').out.matchAll(/^ {2}([a-z-]+) {2,}\S/gm)].map((m) => m[1]!)
    expect(listed.length).toBeGreaterThanOrEqual(7)
    for (const cmd of listed) {
      const r = nicback(cmd, '--help')
      expect(r.code, cmd).toBe(0)
      expect(r.out, cmd).toContain(`Usage: nicback ${cmd}`)
      for (const o of options[cmd] ?? []) expect(r.out, `${cmd} help mentions ${o}`).toContain(o)
    }
  }, 30_000)

  it('-h and "help CMD" print the same help, and --help wins over a usage error', () => {
    const help = nicback('restore', '--help').out
    expect(nicback('restore', '-h')).toEqual({ code: 0, out: help, err: '' })
    expect(nicback('help', 'restore')).toEqual({ code: 0, out: help, err: '' })
    expect(nicback('restore', '--bogus', '--help')).toEqual({ code: 0, out: help, err: '' })
  })
})
