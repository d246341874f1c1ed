// The built `nicback install --docker` / `uninstall` below --root, as an admin
// runs them: they write and remove exactly their files and daemon.json key.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { nicback, noTrace, tmp, useBuiltHookCli } from './hook-cli.js'

useBuiltHookCli()

describe('nicback install --docker / uninstall below --root', () => {
  it('writes the hooks.d files, the shim and its daemon.json key; uninstall takes out exactly those', () => {
    const root = join(tmp, 'root1')
    mkdirSync(join(root, 'etc/docker'), { recursive: true })
    const before = '{\n  "log-level": "warn",\n  "runtimes": {\n    "crun": {\n      "path": "/usr/bin/crun"\n    }\n  }\n}\n'
    writeFileSync(join(root, 'etc/docker/daemon.json'), before)
    const r = nicback(['install', '--root', root, '--docker', '--json'], null)
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as { files: string[] }
    expect(out.files).toEqual(expect.arrayContaining(['/usr/share/containers/oci/hooks.d/50-nicback-createruntime.json', '/usr/share/containers/oci/hooks.d/50-nicback-poststop.json', '/usr/local/sbin/nicback-runtime']))
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

  it('gives back a daemon.json of only `{` and `}` on two lines, byte for byte (issue 17, item 13)', () => {
    const root = join(tmp, 'root-empty')
    mkdirSync(join(root, 'etc/docker'), { recursive: true })
    writeFileSync(join(root, 'etc/docker/daemon.json'), '{\n}\n')
    expect(nicback(['install', '--root', root, '--docker', '--no-record'], null).code).toBe(0)
    expect(JSON.parse(readFileSync(join(root, 'var/lib/nicback/install.json'), 'utf8')).docker).toEqual({ path: '/etc/docker/daemon.json', runtime: 'nicback', createdFile: false, createdRuntimes: true, empty: '\n' })
    const u = nicback(['uninstall', '--root', root], null)
    expect(u.code, u.stderr).toBe(0)
    expect(readFileSync(join(root, 'etc/docker/daemon.json'), 'utf8')).toBe('{\n}\n')
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
    expect(manifest.files.filter((f: string) => f.includes('hooks.d'))).toEqual(['/usr/share/containers/oci/hooks.d/50-nicback-always-createruntime.json', '/usr/share/containers/oci/hooks.d/50-nicback-always-poststop.json'])
  })

  /** `install --docker` into a root of its own: the installed shim, and a
   *  stand-in runtime that says how it was called. */
  const installShim = (name: string) => {
    const root = join(tmp, `root-${name}`)
    expect(nicback(['install', '--root', root, '--docker', '--no-record', '--json'], null).code).toBe(0)
    const fake = join(tmp, `fake-runc-${name}`)
    writeFileSync(fake, '#!/bin/sh\necho "runtime: $*"\n', { mode: 0o755 })
    return { shim: join(root, 'usr/local/sbin/nicback-runtime'), fake }
  }

  it('the installed shim starts node only for the create of a container that declares NICs (issue 10)', () => {
    const { shim, fake } = installShim('shim')
    const bundle = (name: string, env: string[]) => {
      const dir = join(tmp, name)
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ process: { env } }))
      return dir
    }
    const plain = bundle('b-plain', ['PATH=/bin'])
    const nics = bundle('b-nics', ['PATH=/bin', 'NICBACK_NICS=eth1:eth0'])
    const run = (...args: string[]) => spawnSync('sh', [shim, ...args], { encoding: 'utf8', env: { ...process.env, NICBACK_RUNTIME: fake } })
    for (const args of [
      ['--root', '/r', 'create', '--bundle', plain, 'c1'],
      ['create', `--bundle=${plain}`, 'c1'],
      ['start', 'c1'],
      ['delete', '--force', 'c1'],
    ]) {
      const r = run(...args)
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout).toBe(`runtime: ${args.join(' ')}\n`)
    }
    // A container that declares NICs goes to nicback's shim (installed under
    // /usr/local/lib/nicback, which --root does not reach: node says so).
    for (const args of [
      ['create', '-b', nics, 'c2'],
      ['create', '--bundle', nics, 'c2'],
    ]) {
      const r = run(...args)
      expect(r.stdout).toBe('')
      expect(r.stderr).toContain('/usr/local/lib/nicback/nicback-runtime.mjs')
    }
  })

  it("the installed shim's grep never opens a FIFO at config.json: the create goes to node, which refuses it (issue 17)", () => {
    const { shim, fake } = installShim('fifo')
    const dir = join(tmp, 'b-fifo')
    mkdirSync(dir, { recursive: true })
    expect(spawnSync('mkfifo', [join(dir, 'config.json')]).status).toBe(0)
    const r = spawnSync('sh', [shim, 'create', '--bundle', dir, 'c1'], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, NICBACK_RUNTIME: fake } })
    expect(r.signal, 'the wrapper hung on the FIFO').toBeNull()
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('/usr/local/lib/nicback/nicback-runtime.mjs')
  })
})
