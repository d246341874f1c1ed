// The built `nicback hook` and `nicback install --docker` as a runtime and an
// admin run them: bad input gives a message and an exit code, never a stack
// trace; a container that declares no NIC costs one quick run; install and
// uninstall below --root write and remove exactly their files and key.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundle, type Bundle } from './bundle.js'

let b: Bundle
const tmp = mkdtempSync(join(tmpdir(), 'nicback-hookcli-'))
beforeAll(async () => {
  b = await bundle()
}, 60_000)
afterAll(() => {
  b?.remove()
  rmSync(tmp, { recursive: true, force: true })
})

function nicback(args: string[], input: string | null, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [b.nicback, ...args], {
    encoding: 'utf8',
    input: input ?? undefined,
    stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, NICBACK_STATE_DIR: join(tmp, 'state'), ...env },
    timeout: 30_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const noTrace = (stderr: string) => expect(stderr).not.toMatch(/^\s+at .*[(:]\d+/m)

let n = 0
function bundleDir(config: unknown): string {
  const dir = join(tmp, `bundle${++n}`)
  mkdirSync(dir)
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config))
  return dir
}
const state = (o: Record<string, unknown>) => JSON.stringify({ ociVersion: '1.0.2', id: 'c1', status: 'creating', pid: 1, bundle: '/nonexistent', ...o })

describe('nicback hook: bad input', () => {
  const cases: [string, string[], string | null, Record<string, string>, RegExp][] = [
    ['no stage', ['hook'], state({}), {}, /no stage: give --stage createRuntime\|prestart\|poststop/],
    ['an unknown stage', ['hook', '--stage', 'poststart'], state({}), {}, /unknown stage "poststart"/],
    ['no stdin', ['hook', '--stage', 'poststop'], null, {}, /no container state on stdin/],
    ['empty stdin', ['hook', '--stage', 'poststop'], '', {}, /no container state on stdin/],
    ['malformed JSON', ['hook', '--stage', 'poststop'], '{"ociVersion": "1.0', {}, /the container state on stdin is not valid JSON/],
    ['missing fields', ['hook', '--stage', 'createRuntime'], '{"ociVersion": "1.0.2"}', {}, /not an OCI state \(id: missing; status: missing; bundle: missing\)/],
    ['wrong types', ['hook', '--stage', 'createRuntime'], state({ pid: 'x' }), {}, /not an OCI state \(pid: /],
    ['more than 1 MiB', ['hook', '--stage', 'poststop'], 'x'.repeat(2 << 20), {}, /larger than 1048576 bytes/],
    ['an unreadable bundle', ['hook', '--stage', 'createRuntime'], state({ bundle: '/nonexistent/bundle' }), {}, /cannot read the bundle's \/nonexistent\/bundle\/config\.json: ENOENT/],
    ['an annotation and an unreadable bundle', ['hook', '--stage', 'createRuntime'], state({ bundle: '/nonexistent', annotations: { 'io.nicback.nics': 'eth2' } }), {}, /cannot read the bundle/],
  ]
  for (const [what, args, input, env, msg] of cases) {
    it(`${what}: exit 1, says why, no stack trace`, () => {
      const r = nicback(args, input, env)
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(msg)
      expect(r.stderr).toMatch(/^nicback: error: /)
      noTrace(r.stderr)
    })
  }

  it('an invalid NIC list in the annotation: exit 1, names the annotation', () => {
    const dir = bundleDir({ annotations: { 'io.nicback.nics': 'eth2,,eth3' } })
    const r = nicback(['hook', '--stage', 'createRuntime'], state({ bundle: dir, annotations: { 'io.nicback.nics': 'eth2,,eth3' } }))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/annotation io\.nicback\.nics "eth2,,eth3": entry 2 is empty/)
    noTrace(r.stderr)
  })

  it('an invalid NICBACK_NICS: exit 1, names the variable', () => {
    const dir = bundleDir({ process: { env: ['NICBACK_NICS=eth2:eth0:eth1'] } })
    const r = nicback(['hook', '--stage', 'createRuntime'], state({ bundle: dir }))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/environment variable NICBACK_NICS "eth2:eth0:eth1": "eth2:eth0:eth1" has more than one ":"/)
  })

  it('takes the stage from NICBACK_HOOK_STAGE', () => {
    const r = nicback(['hook'], '', { NICBACK_HOOK_STAGE: 'poststop' })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/no container state on stdin/)
  })

  it('a bad --timeout or option is a usage error (exit 2)', () => {
    expect(nicback(['hook', '--stage', 'poststop', '--timeout', 'soon'], state({})).code).toBe(2)
    const r = nicback(['hook', '--stagee', 'poststop'], state({}))
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/Run "nicback hook --help"/)
  })

  it('prints its help', () => {
    const r = nicback(['hook', '--help'], null)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Usage: nicback hook --stage STAGE/)
  })
})

describe('nicback hook: nothing to do', () => {
  it('createRuntime for a container that declares no NIC exits 0 at once, silently', () => {
    const dir = bundleDir({ process: { env: ['PATH=/bin'] }, linux: { namespaces: [{ type: 'network' }] } })
    const r = nicback(['hook', '--stage', 'createRuntime'], state({ bundle: dir }))
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' })
  })

  it('poststop for a container nicback recorded nothing against exits 0, silently', () => {
    const r = nicback(['hook', '--stage', 'poststop'], state({ status: 'stopped', pid: 0 }))
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' })
  })

  it('costs one short node run (median of 11, printed): the price of the when.always hooks', () => {
    const dir = bundleDir({ process: { env: ['PATH=/bin'] } })
    const time = (f: () => void) => {
      const t: number[] = []
      for (let i = 0; i < 11; i++) {
        const t0 = performance.now()
        f()
        t.push(performance.now() - t0)
      }
      return t.sort((a, c) => a - c)[5]!
    }
    const node = time(() => spawnSync(process.execPath, ['-e', '0']))
    const create = time(() => nicback(['hook', '--stage', 'createRuntime'], state({ bundle: dir })))
    const stop = time(() => nicback(['hook', '--stage', 'poststop'], state({ status: 'stopped' })))
    console.log(`hook with nothing to do (median of 11): node -e 0 ${node.toFixed(0)} ms, createRuntime ${create.toFixed(0)} ms, poststop ${stop.toFixed(0)} ms`)
    expect(create).toBeLessThan(node + 1000)
  })
})

describe('nicback install --docker / uninstall below --root', () => {
  it('writes the hooks.d files, the shim and its daemon.json key; uninstall takes out exactly those', () => {
    const root = join(tmp, 'root1')
    mkdirSync(join(root, 'etc/docker'), { recursive: true })
    const before = '{\n  "log-level": "warn",\n  "runtimes": {\n    "crun": {\n      "path": "/usr/bin/crun"\n    }\n  }\n}\n'
    writeFileSync(join(root, 'etc/docker/daemon.json'), before)
    const r = nicback(['install', '--root', root, '--docker', '--json'], null)
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as { files: string[] }
    expect(out.files).toEqual(expect.arrayContaining([
      '/usr/share/containers/oci/hooks.d/50-nicback-createruntime.json',
      '/usr/share/containers/oci/hooks.d/50-nicback-poststop.json',
      '/usr/local/sbin/nicback-runtime',
    ]))
    expect(out.files.some((f) => f.includes('always'))).toBe(false)
    const hook = JSON.parse(readFileSync(join(root, 'usr/share/containers/oci/hooks.d/50-nicback-poststop.json'), 'utf8'))
    expect(hook).toEqual({
      version: '1.0.0',
      hook: { path: '/usr/local/sbin/nicback', args: ['nicback', 'hook', '--stage', 'poststop'] },
      when: { annotations: { '^io\\.nicback\\.nics$': '.*' } },
      stages: ['poststop'],
    })
    expect(JSON.parse(readFileSync(join(root, 'etc/docker/daemon.json'), 'utf8'))).toEqual({
      'log-level': 'warn',
      runtimes: { crun: { path: '/usr/bin/crun' }, nicback: { path: '/usr/local/sbin/nicback-runtime' } },
    })
    const manifest = JSON.parse(readFileSync(join(root, 'var/lib/nicback/install.json'), 'utf8'))
    expect(manifest.docker).toEqual({ path: '/etc/docker/daemon.json', runtime: 'nicback', createdFile: false, createdRuntimes: false })
    const wrapper = readFileSync(join(root, 'usr/local/sbin/nicback-runtime'), 'utf8')
    expect(wrapper).toContain('/usr/local/lib/nicback/nicback-runtime.mjs "$@"')
    expect(wrapper).toContain('rt=${NICBACK_RUNTIME:-runc}')

    // Again: nothing doubles.
    expect(nicback(['install', '--root', root, '--docker'], null).code).toBe(0)
    expect(Object.keys(JSON.parse(readFileSync(join(root, 'etc/docker/daemon.json'), 'utf8')).runtimes)).toEqual(['crun', 'nicback'])

    const u = nicback(['uninstall', '--root', root], null)
    expect(u.code, u.stderr).toBe(0)
    expect(readFileSync(join(root, 'etc/docker/daemon.json'), 'utf8')).toBe(before)
    expect(existsSync(join(root, 'usr/local/sbin/nicback-runtime'))).toBe(false)
    expect(existsSync(join(root, 'usr/share/containers/oci/hooks.d/50-nicback-createruntime.json'))).toBe(false)
  })

  it('removes a daemon.json it created', () => {
    const root = join(tmp, 'root2')
    expect(nicback(['install', '--root', root, '--docker'], null).code).toBe(0)
    expect(JSON.parse(readFileSync(join(root, 'etc/docker/daemon.json'), 'utf8'))).toEqual({ runtimes: { nicback: { path: '/usr/local/sbin/nicback-runtime' } } })
    expect(nicback(['uninstall', '--root', root], null).code).toBe(0)
    expect(existsSync(join(root, 'etc/docker/daemon.json'))).toBe(false)
  })

  it('refuses an invalid daemon.json before writing anything', () => {
    const root = join(tmp, 'root3')
    mkdirSync(join(root, 'etc/docker'), { recursive: true })
    writeFileSync(join(root, 'etc/docker/daemon.json'), '{"runtimes": {')
    const r = nicback(['install', '--root', root, '--docker'], null)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/daemon\.json is not valid JSON .*nicback will not touch it/)
    noTrace(r.stderr)
    expect(readFileSync(join(root, 'etc/docker/daemon.json'), 'utf8')).toBe('{"runtimes": {')
    expect(existsSync(join(root, 'usr/local/lib/nicback'))).toBe(false)
  })

  it('--netdevices installs the when.always hooks instead of the annotation ones', () => {
    const root = join(tmp, 'root4')
    expect(nicback(['install', '--root', root], null).code).toBe(0)
    expect(nicback(['install', '--root', root, '--netdevices'], null).code).toBe(0)
    const d = join(root, 'usr/share/containers/oci/hooks.d')
    expect(existsSync(join(d, '50-nicback-createruntime.json'))).toBe(false)
    expect(JSON.parse(readFileSync(join(d, '50-nicback-always-createruntime.json'), 'utf8')).when).toEqual({ always: true })
    const manifest = JSON.parse(readFileSync(join(root, 'var/lib/nicback/install.json'), 'utf8'))
    expect(manifest.files.filter((f: string) => f.includes('hooks.d'))).toEqual([
      '/usr/share/containers/oci/hooks.d/50-nicback-always-createruntime.json',
      '/usr/share/containers/oci/hooks.d/50-nicback-always-poststop.json',
    ])
  })
})
