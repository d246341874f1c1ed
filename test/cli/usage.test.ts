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
    const listed = [...nicback('--help').out.matchAll(/^  ([a-z-]+) {2,}\S/gm)].map((m) => m[1]!)
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
