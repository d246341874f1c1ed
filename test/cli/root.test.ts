// Run by a user who is not root (issue 18): a command that needs root says so
// in one line, before it does anything, and exits 1 (not a zx error, not a
// state directory to "make root's"); --help, --version, the completion, the
// OCI hook (rootless engines run it as the user) and install/uninstall
// --root DIR (staging) do not need root. The built bundle, run as nobody.
import { spawnSync } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundle, type Bundle } from './bundle.js'

const NOBODY = 65534
let b: Bundle
const tmp = mkdtempSync(join(tmpdir(), 'nicback-nonroot-'))
/** A state directory as nicback makes it: root's, 0700. */
const rootState = join(tmp, 'state')

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('this test runs nicback as another user: run the cli tier as root')
  b = await bundle()
  chmodSync(b.dir, 0o755)
  chmodSync(tmp, 0o755)
  mkdirSync(rootState, { mode: 0o700 })
  writeFileSync(join(rootState, 'registry.json'), JSON.stringify({ format: 'nicback-registry', version: 1, nics: [] }), { mode: 0o600 })
}, 60_000)
afterAll(() => {
  b?.remove()
  rmSync(tmp, { recursive: true, force: true })
})

function asNobody(args: string[], input = '') {
  const r = spawnSync(process.execPath, [b.nicback, ...args], {
    uid: NOBODY,
    gid: NOBODY,
    cwd: '/',
    input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, NICBACK_STATE_DIR: rootState },
    timeout: 20_000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe('not root', () => {
  const needRoot: string[][] = [['status'], ['status', '--json'], ['metrics'], ['record'], ['restore', '--dry-run'], ['forget', 'eth0'], ['assign', 'eth0', '--pid', '1'], ['release', 'eth0'], ['demo'], ['install'], ['uninstall'], ['watch']]
  for (const args of needRoot) {
    it(`nicback ${args.join(' ')}: one line, that it must run as root, exit 1`, () => {
      const r = asNobody(args)
      expect(r.code).toBe(1)
      expect(r.out).toBe('')
      expect(r.err).toMatch(new RegExp(`^nicback ${args[0]}: must run as root: it [^\\n]+ \\(running as uid ${NOBODY}\\); try "sudo nicback ${args[0]}"\\n$`))
    })
  }

  it("status with root's state directory: the cause is not being root, not the directory's owner", () => {
    const r = asNobody(['status'])
    expect(r.err).not.toMatch(/make it root's|owned by/)
  })

  it('bad usage is still bad usage (exit 2)', () => {
    expect(asNobody(['status', '--bogus']).code).toBe(2)
    expect(asNobody(['demo', '--json']).code).toBe(2)
  })

  it("--help, --version, a command's help and the completion: as anyone", () => {
    for (const args of [['--help'], ['--version'], ['demo', '--help'], ['help', 'status'], ['completion', 'bash']]) {
      const r = asNobody(args)
      expect(r.code, args.join(' ')).toBe(0)
      expect(r.err, args.join(' ')).toBe('')
      expect(r.out, args.join(' ')).not.toBe('')
    }
  })

  it('install and uninstall --root DIR (staging): into a folder of their own', () => {
    const root = join(tmp, 'stage')
    mkdirSync(root)
    chownSync(root, NOBODY, NOBODY)
    const i = asNobody(['install', '--root', root, '--json'])
    expect(i.code, i.err).toBe(0)
    expect(JSON.parse(i.out).files).toContain('/etc/udev/rules.d/81-nicback.rules')
    const u = asNobody(['uninstall', '--root', root])
    expect(u.code, u.err).toBe(0)
  })

  it('the OCI hook: a container that declares no NIC costs an exit 0, as the user a rootless engine runs it as', () => {
    const dir = join(tmp, 'bundle')
    mkdirSync(dir)
    writeFileSync(join(dir, 'config.json'), '{}')
    const state = JSON.stringify({ ociVersion: '1.0.2', id: 'c1', status: 'creating', pid: 1, bundle: dir })
    expect(asNobody(['hook', '--stage', 'createRuntime'], state)).toEqual({ code: 0, out: '', err: '' })
  })
})
