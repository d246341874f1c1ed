// The built CLI, spawned as a user would run it: usage errors, help, exit
// codes, and the read-only commands. Nothing here records, restores or
// installs: no system effects (the registry lives in a temporary directory).
// Built by bundle.ts into a temporary folder with the same esbuild shape as
// `npm run build`, which would delete dist/ under a netns or vm tier running
// at the same time.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { bundle, type Bundle } from './bundle.js'

let built: Bundle | undefined
let CLI: string
let state: string

beforeAll(async () => {
  built = await bundle()
  CLI = built.nicback
}, 60_000)
beforeEach(() => {
  if (state) rmSync(state, { recursive: true, force: true })
  state = mkdtempSync(join(tmpdir(), 'nicback-cli-'))
})
afterAll(() => {
  if (state) rmSync(state, { recursive: true, force: true })
  built?.remove()
})

function nicback(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NICBACK_STATE_DIR: state, NICBACK_DEBUG: '' },
    timeout: 20_000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

const registry = () => join(state, 'registry.json')
const entry = (name: string, bus: string) => ({
  name, bus, devPort: null, permAddr: null, mac: null, ifindex: null, driver: null, mtu: null, up: null, recordedAt: '2024-01-01T00:00:00.000Z',
  away: { since: '2024-01-01T00:00:00.000Z', via: 'udev', leftAs: name, container: { name: 'web' } },
})
/** NICs on buses no machine has: always "away". */
const writeRegistry = (...nics: unknown[]) => writeFileSync(registry(), JSON.stringify({ format: 'nicback-registry', version: 1, nics }), { mode: 0o600 })

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

describe('status', () => {
  it('--json prints an array of rows with recordedName, name and state', () => {
    writeRegistry(entry('eth7', 'nicback-test/bus/1'))
    const r = nicback('status', '--json')
    expect(r.code, r.err).toBe(0)
    const rows = JSON.parse(r.out) as Record<string, unknown>[]
    expect(Array.isArray(rows)).toBe(true)
    for (const row of rows) {
      expect(row).toHaveProperty('recordedName')
      expect(row).toHaveProperty('name')
      expect(['home', 'away', 'returned-misnamed', 'conflict', 'unrecorded']).toContain(row.state)
    }
    expect(rows).toContainEqual(expect.objectContaining({ recordedName: 'eth7', name: null, state: 'away', container: { name: 'web' } }))
  })

  it('prints a table for people', () => {
    writeRegistry(entry('eth7', 'nicback-test/bus/1'))
    const r = nicback('status')
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/^RECORDED +NOW +STATE +IDENTITY +WHERE$/m)
    expect(r.out).toMatch(/^eth7 +- +away +bus nicback-test\/bus\/1 +left as eth7 via udev/m)
  })

  it('a corrupted registry: exit 1, the file named, the file left as it is', () => {
    writeFileSync(registry(), '{"format": "nicback-registry", "version": 1, "nics": [')
    const r = nicback('status')
    expect(r.code).toBe(1)
    expect(r.err).toContain(`${registry()} is not valid JSON`)
    expect(readFileSync(registry(), 'utf8')).toBe('{"format": "nicback-registry", "version": 1, "nics": [')
  })
})

describe('forget', () => {
  it('a name that is not recorded: exit 1 with a message', () => {
    const r = nicback('forget', 'nosuch')
    expect(r.code).toBe(1)
    expect(r.err).toContain('nosuch is not a recorded NIC')
  })

  it('removes a recorded NIC from the registry and no other', () => {
    writeRegistry(entry('eth7', 'nicback-test/bus/1'), entry('eth8', 'nicback-test/bus/2'))
    const r = nicback('forget', 'eth7', '--json')
    expect(r.code, r.err).toBe(0)
    expect(JSON.parse(r.out)).toEqual({ forgotten: ['eth7 (bus nicback-test/bus/1)'], unknown: [] })
    const left = JSON.parse(readFileSync(registry(), 'utf8')) as { nics: { name: string }[] }
    expect(left.nics.map((e) => e.name)).toEqual(['eth8'])
  })

  it('with a corrupted registry: exit 1, the file not overwritten', () => {
    writeFileSync(registry(), '{"hello": 1}')
    const r = nicback('forget', 'eth7')
    expect(r.code).toBe(1)
    expect(r.err).toContain(`${registry()} is not a nicback registry`)
    expect(readFileSync(registry(), 'utf8')).toBe('{"hello": 1}')
  })
})
