// Bash completion (issue 18), made from the same table as the help: run in a
// real bash, as completion runs, for a table of two commands.
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { bashCompletion, type CompletionSpec } from '../../../scripts/lib/cli/completion.js'

const SPEC: CompletionSpec = {
  program: 'nicback',
  global: ['--help', '--version'],
  commands: [
    { name: 'restore', options: { all: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } }, args: 'iface' },
    { name: 'status', options: { json: { type: 'boolean' } } },
    { name: 'hook', options: { stage: { type: 'string' }, timeout: { type: 'string' } }, choices: { stage: ['createRuntime', 'prestart', 'poststop'] } },
    { name: 'completion', options: {}, args: ['bash'] },
  ],
}

/** What bash offers for the words typed so far (the last one being completed). */
function complete(script: string, ...words: string[]): string[] {
  const run = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _nicback; printf '%s\\n' "\${COMPREPLY[@]}"`
  const r = spawnSync('bash', ['--norc', '-c', run], { encoding: 'utf8' })
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  return r.stdout.split('\n').filter((l) => l !== '')
}

describe('bashCompletion', () => {
  const script = bashCompletion(SPEC)

  it('registers _nicback for nicback', () => {
    expect(script).toMatch(/^complete -F _nicback nicback$/m)
  })

  it('the commands, help and the global options first', () => {
    expect(complete(script, 'nicback', '')).toEqual(['restore', 'status', 'hook', 'completion', 'help', '--help', '--version'])
    expect(complete(script, 'nicback', 're')).toEqual(['restore'])
    expect(complete(script, 'nicback', '--v')).toEqual(['--version'])
  })

  it("a command's own options, and --help, no other", () => {
    expect(complete(script, 'nicback', 'restore', '--')).toEqual(['--all', '--dry-run', '--json', '--help'])
    expect(complete(script, 'nicback', 'status', '-')).toEqual(['--json', '--help'])
    expect(complete(script, 'nicback', 'status', '')).toEqual(['--json', '--help'])
    expect(complete(script, 'nicback', 'hook', '--')).toEqual(['--stage', '--timeout', '--help'])
  })

  it('the values of an option that has a few', () => {
    expect(complete(script, 'nicback', 'hook', '--stage', 'p')).toEqual(['prestart', 'poststop'])
  })

  it('interface names where the command takes NICs, its words where it takes those', () => {
    const ifaces = spawnSync('ls', ['/sys/class/net'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)
    expect(complete(script, 'nicback', 'restore', '')).toEqual(ifaces)
    expect(complete(script, 'nicback', 'completion', '')).toEqual(['bash'])
  })

  it('"help" completes the command names; an unknown command nothing', () => {
    expect(complete(script, 'nicback', 'help', 's')).toEqual(['status'])
    expect(complete(script, 'nicback', 'nosuch', '')).toEqual([])
  })

  it('refuses a name that would need quoting (never a script that runs something)', () => {
    expect(() => bashCompletion({ ...SPEC, commands: [{ name: "x'; rm -rf /; '", options: {} }] })).toThrow(/not a plain word/)
    expect(() => bashCompletion({ ...SPEC, commands: [{ name: 'x', options: { 'a b': { type: 'boolean' } } }] })).toThrow(/not a plain word/)
  })
})
