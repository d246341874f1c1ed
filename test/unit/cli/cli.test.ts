// The command line's shared pieces (issue 18): options per command (no --json
// where it would do nothing), "did you mean" for an option, colour only on a
// terminal, and a command that needs root refused in one line before it runs.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { bold, parse, rootReason, runCommand, useColor, type Command } from '../../../scripts/lib/cli/cli.js'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('parse', () => {
  it('takes --help and the options given, and --json only where given', () => {
    expect(parse(['--json'], { json: { type: 'boolean' } }).values.json).toBe(true)
    expect(parse(['-h'], {}).values.help).toBe(true)
    expect(() => parse(['--json'], {}, false)).toThrow(expect.objectContaining({ code: 'usage' }))
    expect(() => parse(['--json'], { force: { type: 'boolean' } })).toThrow("Unknown option '--json'")
  })

  it('an unknown option names the nearest one of this command', () => {
    const options = { all: { type: 'boolean' }, 'dry-run': { type: 'boolean' } } as const
    expect(() => parse(['--dryrun'], options)).toThrow(`Unknown option '--dryrun'; did you mean "--dry-run"?`)
    expect(() => parse(['--hepl'], options)).toThrow(`did you mean "--help"?`)
    expect(() => parse(['--frobnicate'], options)).toThrow(/^Unknown option '--frobnicate'$/)
  })

  it('positionals only where the command takes them', () => {
    expect(parse(['eth0'], {}).positionals).toEqual(['eth0'])
    expect(() => parse(['eth0'], {}, false)).toThrow(/Unexpected argument 'eth0'/)
  })
})

describe('useColor', () => {
  it('a terminal only, and not with NO_COLOR or TERM=dumb', () => {
    expect(useColor({ isTTY: true }, {})).toBe(true)
    expect(useColor({ isTTY: true }, { TERM: 'xterm' })).toBe(true)
    expect(useColor({ isTTY: false }, {})).toBe(false)
    expect(useColor({}, {})).toBe(false)
    expect(useColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false)
    expect(useColor({ isTTY: true }, { NO_COLOR: '' })).toBe(true)
    expect(useColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false)
  })

  it('bold: an escape sequence only when colouring', () => {
    expect(bold('x', true)).toBe('\x1b[1mx\x1b[0m')
    expect(bold('x', false)).toBe('x')
  })
})

describe('rootReason', () => {
  it('the reason given, none, the one the options decide, or by default that it changes things', () => {
    expect(rootReason({ root: 'it creates network namespaces' }, {})).toBe('it creates network namespaces')
    expect(rootReason({ root: null }, {})).toBeNull()
    const install = { root: (v: Record<string, unknown>) => (v.root === undefined ? 'it writes below /' : null) }
    expect(rootReason(install, {})).toBe('it writes below /')
    expect(rootReason(install, { root: '/tmp/x' })).toBeNull()
    expect(rootReason({}, {})).toMatch(/registry/)
  })
})

describe('runCommand', () => {
  const cmd = (over: Partial<Command> = {}): Command & { main: ReturnType<typeof vi.fn> } => ({ summary: '', help: '', options: { json: { type: 'boolean' } }, root: 'it creates network namespaces', main: vi.fn(() => 0), ...over }) as never

  function run(c: Command, argv: string[], euid: number) {
    let err = ''
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err += String(s)
      return true
    })
    return runCommand('demo', c, argv, euid).then((code) => ({ code, err }))
  }

  it('not root: one line saying so, exit 1, and the command never runs', async () => {
    const c = cmd()
    const r = await run(c, [], 1000)
    expect(r.code).toBe(1)
    expect(r.err).toBe('nicback demo: must run as root: it creates network namespaces (running as uid 1000); try "sudo nicback demo"\n')
    expect(c.main).not.toHaveBeenCalled()
  })

  it('root, or a command that need not be: it runs', async () => {
    const c = cmd()
    expect((await run(c, ['--json'], 0)).code).toBe(0)
    const free = cmd({ root: null })
    expect((await run(free, [], 1000)).code).toBe(0)
    expect(free.main).toHaveBeenCalledTimes(1)
  })

  it('bad usage comes first: exit 2, with the hint, whoever runs it', async () => {
    const c = cmd({ options: {} })
    const r = await run(c, ['--json'], 1000)
    expect(r.code).toBe(2)
    expect(r.err).toBe(`nicback demo: Unknown option '--json'\nRun "nicback demo --help" for usage.\n`)
    expect(c.main).not.toHaveBeenCalled()
    expect((await run(cmd(), ['eth0'], 0)).code).toBe(2)
  })
})
