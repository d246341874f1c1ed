// Running system commands (system/exec.ts): which() looks in the usual
// places (udev and OCI runtimes give a minimal PATH), and a command that
// fails throws an error naming its argv and its stderr (or exit status).
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { run, runBytes, runBytesAsync, which } from '../../../scripts/lib/system/exec.js'

describe('which', () => {
  it('finds a command in the system directories, not through PATH', () => {
    const sh = which('sh')
    expect(sh).toMatch(/^\/(usr\/)?(local\/)?s?bin\/sh$/)
    expect(existsSync(sh)).toBe(true)
    expect(which('sh')).toBe(sh)
  })

  it('a command found nowhere is left as its name (the spawn then says so)', () => {
    expect(which('nicback-no-such-command')).toBe('nicback-no-such-command')
  })
})

describe('run', () => {
  it('returns stdout', () => {
    expect(run('true', [])).toBe('')
    expect(run('sh', ['-c', 'echo hi; echo there'])).toBe('hi\nthere\n')
  })

  it('passes input on stdin', () => {
    expect(run('sh', ['-c', 'cat'], 'abc\n')).toBe('abc\n')
  })

  it('a failure: the argv and stderr in the message, with stderr and status kept', () => {
    let caught: unknown
    try {
      run('sh', ['-c', 'echo out; echo "no such device" >&2; exit 3'])
    } catch (err) {
      caught = err
    }
    expect(caught).toMatchObject({
      message: 'sh -c echo out; echo "no such device" >&2; exit 3: no such device',
      argv: ['sh', '-c', 'echo out; echo "no such device" >&2; exit 3'],
      stderr: 'no such device\n',
      status: 3,
    })
  })

  it('a failure with nothing on stderr: the argv and what node says of it, the status kept', () => {
    expect(() => run('false', [])).toThrow(/^false: .*false/)
    try {
      run('false', ['x'])
    } catch (err) {
      expect(err).toMatchObject({ argv: ['false', 'x'], status: 1 })
    }
  })

  it('a command that cannot be started: the argv and why, no status', () => {
    try {
      run('nicback-no-such-command', ['a'])
      expect.unreachable()
    } catch (err) {
      expect((err as Error).message).toMatch(/^nicback-no-such-command a: spawnSync nicback-no-such-command E[A-Z]+$/)
      expect(err).toMatchObject({ status: null })
    }
  })
})

describe('runBytes', () => {
  it('returns stdout as bytes, any byte kept', () => {
    const out = runBytes('sh', ['-c', "printf 'a\\377b'"])
    expect(Buffer.isBuffer(out)).toBe(true)
    expect([...out]).toEqual([0x61, 0xff, 0x62])
  })

  it('fails as run does', () => {
    expect(() => runBytes('sh', ['-c', 'echo bad >&2; exit 2'])).toThrow(/^sh -c echo bad >&2; exit 2: bad$/)
  })
})

describe('runBytesAsync', () => {
  it('resolves with stdout as bytes', async () => {
    const out = await runBytesAsync('sh', ['-c', "printf '\\001\\376'"])
    expect([...out]).toEqual([1, 0xfe])
  })

  it('rejects as run throws: argv, stderr, status', async () => {
    await expect(runBytesAsync('sh', ['-c', 'echo gone >&2; exit 4'])).rejects.toMatchObject({
      message: 'sh -c echo gone >&2; exit 4: gone',
      argv: ['sh', '-c', 'echo gone >&2; exit 4'],
      stderr: 'gone\n',
      status: 4,
    })
    await expect(runBytesAsync('false', [])).rejects.toThrow(/^false: exit status 1$/)
  })

  it('the signal stops the command: an AbortError', async () => {
    const ac = new AbortController()
    const p = runBytesAsync('sh', ['-c', 'sleep 10'], ac.signal)
    ac.abort()
    await expect(p).rejects.toMatchObject({ name: 'AbortError' })
  })
})
