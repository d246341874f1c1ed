// nicback-runtime, the Docker shim, its pure parts: runc's argv and the
// config.json edit. (The built shim in front of a stand-in runtime:
// test/cli/nicback-runtime.test.ts.)
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { addHooksToText, declaresNics, editBundle, nicbackHook, parseRuntimeArgv, resolveRuntime } from '../../../scripts/lib/runtimes/shim.js'
import { tempBundles } from '../helpers.js'

const { tmp, bundleDir } = tempBundles()

describe('parseRuntimeArgv', () => {
  it('finds create and its bundle behind containerd-shim-runc-v2 global flags', () => {
    const argv = ['--root', '/run/containerd/runc/moby', '--log', '/run/c/log.json', '--log-format', 'json', 'create', '--bundle', '/run/c/b', '--pid-file', '/run/c/pid', '--console-socket', '/tmp/s', 'abc']
    expect(parseRuntimeArgv(argv)).toEqual({ runtime: null, args: argv, command: 'create', bundle: '/run/c/b', preserveFds: 0, log: '/run/c/log.json', logFormat: 'json' })
  })

  it('reads --flag=value, -flag value and boolean global flags', () => {
    expect(parseRuntimeArgv(['--root=/x', '--debug', '--systemd-cgroup', 'create', '-b', '/b', 'id'])).toMatchObject({ command: 'create', bundle: '/b' })
    expect(parseRuntimeArgv(['-root', '/x', 'create', '--bundle=/b', 'id'])).toMatchObject({ command: 'create', bundle: '/b' })
    expect(parseRuntimeArgv(['create', '-b=/b', '--no-pivot', 'id'])).toMatchObject({ command: 'create', bundle: '/b' })
    expect(parseRuntimeArgv(['--rootless', 'auto', 'run', '--bundle', '/b', 'id'])).toMatchObject({ command: 'run', bundle: '/b' })
  })

  it('leaves bundle null when not given (runc uses the cwd)', () => {
    expect(parseRuntimeArgv(['create', 'id'])).toMatchObject({ command: 'create', bundle: null })
  })

  it('takes --nicback-runtime out of the runtime argv', () => {
    const r = parseRuntimeArgv(['--nicback-runtime', '/usr/bin/crun', '--root', '/x', 'delete', '--force', 'id'])
    expect(r).toMatchObject({ runtime: '/usr/bin/crun', command: 'delete', args: ['--root', '/x', 'delete', '--force', 'id'] })
    expect(parseRuntimeArgv(['--nicback-runtime=/r', 'state', 'id'])).toMatchObject({ runtime: '/r', args: ['state', 'id'] })
    expect(() => parseRuntimeArgv(['--nicback-runtime'])).toThrow(expect.objectContaining({ code: 'shim' }))
    expect(() => parseRuntimeArgv(['--nicback-runtime='])).toThrow(/needs the path/)
  })

  it('knows the subcommand from a container id that looks like one', () => {
    expect(parseRuntimeArgv(['--root', 'create', 'start', 'create'])).toMatchObject({ command: 'start', bundle: null })
  })

  it('reads --preserve-fds, and refuses a count that is not one', () => {
    expect(parseRuntimeArgv(['create', '--preserve-fds', '2', '-b', '/b', 'id'])).toMatchObject({ preserveFds: 2, bundle: '/b' })
    expect(parseRuntimeArgv(['exec', '--preserve-fds=1', 'id', 'sh'])).toMatchObject({ preserveFds: 1 })
    expect(() => parseRuntimeArgv(['create', '--preserve-fds', 'x', 'id'])).toThrow(/not a count/)
  })

  it('has no command for global-only calls', () => {
    expect(parseRuntimeArgv(['--version'])).toMatchObject({ command: null, args: ['--version'] })
    expect(parseRuntimeArgv([])).toMatchObject({ command: null, args: [] })
  })

  it('refuses a global value flag without its value', () => {
    expect(() => parseRuntimeArgv(['--root'])).toThrow(/--root needs a value/)
  })
})

describe('declaresNics', () => {
  it('sees the annotation or NICBACK_NICS, not empty ones', () => {
    expect(declaresNics({ annotations: { 'io.nicback.nics': 'eth2:eth0' } })).toBe(true)
    expect(declaresNics({ process: { env: ['PATH=/bin', 'NICBACK_NICS=ens3:eth0'] } })).toBe(true)
    expect(declaresNics({ annotations: { 'io.nicback.nics': ' ' } })).toBe(false)
    expect(declaresNics({ process: { env: ['NICBACK_NICS='] } })).toBe(false)
    expect(declaresNics({ process: { env: ['XNICBACK_NICS=eth2'] } })).toBe(false)
    expect(declaresNics({})).toBe(false)
    expect(declaresNics(null)).toBe(false)
  })
})

describe('addHooksToText', () => {
  /** The config.json text with the hooks added, parsed; null: nothing added. */
  const added = (c: Record<string, unknown>, hookBin?: string) => {
    const text = addHooksToText(JSON.stringify(c), c, hookBin)
    return text === null ? null : (JSON.parse(text) as Record<string, unknown>)
  }

  it('adds createRuntime and poststop hooks calling the nicback wrapper', () => {
    expect(added({})?.hooks).toEqual({
      createRuntime: [{ path: '/usr/local/sbin/nicback', args: ['nicback', 'hook', '--stage', 'createRuntime'] }],
      poststop: [{ path: '/usr/local/sbin/nicback', args: ['nicback', 'hook', '--stage', 'poststop'] }],
    })
  })

  it('adds them once: a second edit changes nothing', () => {
    const once = added({})!
    expect(addHooksToText(JSON.stringify(once), once)).toBeNull()
  })

  it('keeps the hooks already there, in order, ahead of its own', () => {
    const other = { path: '/usr/bin/other', args: ['other'] }
    const c: Record<string, unknown> = { hooks: { prestart: [other], createRuntime: [other], poststop: [other, other] } }
    expect(added(c, '/opt/nicback')?.hooks).toEqual({
      prestart: [other],
      createRuntime: [other, nicbackHook('createRuntime', '/opt/nicback')],
      poststop: [other, other, nicbackHook('poststop', '/opt/nicback')],
    })
  })

  it('refuses hooks of the wrong shape', () => {
    expect(() => added({ hooks: [] })).toThrow(/"hooks" that is not an object/)
    expect(() => added({ hooks: { poststop: {} } })).toThrow(/"hooks\.poststop" that is not an array/)
  })
})

describe('editBundle', () => {
  it('adds the hooks to a container that declares NICs, keeping the file mode', () => {
    const dir = bundleDir({ ociVersion: '1.0.2', process: { env: ['NICBACK_NICS=ens3:eth0'] }, hooks: { poststop: [{ path: '/x' }] } })
    chmodSync(join(dir, 'config.json'), 0o644)
    expect(editBundle(dir)).toEqual({ declares: true, changed: true })
    const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))
    expect(c.ociVersion).toBe('1.0.2')
    expect(c.hooks.poststop).toEqual([{ path: '/x' }, nicbackHook('poststop')])
    expect(c.hooks.createRuntime).toEqual([nicbackHook('createRuntime')])
    expect(statSync(join(dir, 'config.json')).mode & 0o777).toBe(0o644)
    const text = readFileSync(join(dir, 'config.json'), 'utf8')
    expect(editBundle(dir)).toEqual({ declares: true, changed: false })
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe(text)
  })

  it('leaves every other container byte for byte untouched', () => {
    const text = JSON.stringify({ process: { env: ['PATH=/bin'] } }, null, 1)
    const dir = bundleDir(text)
    expect(editBundle(dir)).toEqual({ declares: false, changed: false })
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe(text)
  })

  it('leaves a config.json it cannot read or parse to the runtime', () => {
    const dir = bundleDir('{ not json')
    expect(editBundle(dir)).toEqual({ declares: false, changed: false })
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe('{ not json')
    expect(editBundle(join(tmp, 'missing'))).toEqual({ declares: false, changed: false })
  })
})

describe('resolveRuntime', () => {
  it('takes --nicback-runtime, then NICBACK_RUNTIME, then runc on PATH', () => {
    const bin = join(tmp, 'bin')
    mkdirSync(bin, { recursive: true })
    writeFileSync(join(bin, 'runc'), '#!/bin/sh\n', { mode: 0o755 })
    expect(resolveRuntime('/opt/crun', { NICBACK_RUNTIME: '/x' })).toBe('/opt/crun')
    expect(resolveRuntime(null, { NICBACK_RUNTIME: '/x/crun' })).toBe('/x/crun')
    expect(resolveRuntime(null, { PATH: bin })).toBe(join(bin, 'runc'))
  })
})

// Issue 17, item 9: the shim adds its hooks to config.json as text edits. A
// JSON.parse/JSON.stringify round trip turned `docker run --ulimit
// memlock=-1`'s 18446744073709551615 into 18446744073709552000, and runc
// refused the bundle ("cannot unmarshal ... uint64").
describe('editBundle edits config.json in place, never re-serialised', () => {
  const hooksJson = (bin = '/usr/local/sbin/nicback') => `"hooks":{"createRuntime":[{"path":"${bin}","args":["nicback","hook","--stage","createRuntime"]}],"poststop":[{"path":"${bin}","args":["nicback","hook","--stage","poststop"]}]}`
  // As dockerd writes it (Go's json.Marshal: one line, no spaces).
  const docker =
    '{"ociVersion":"1.0.2","process":{"env":["PATH=/bin","NICBACK_NICS=ens3:eth0"],"rlimits":[{"type":"RLIMIT_MEMLOCK","hard":18446744073709551615,"soft":18446744073709551615},{"type":"RLIMIT_NOFILE","hard":1048576,"soft":1048576}]},' +
    '"linux":{"resources":{"memory":{"limit":9223372036854775807,"reservation":-9223372036854775808,"swap":-1}}}}'

  it('keeps uint64 18446744073709551615 (memlock rlimits) and int64 9223372036854775807 / -9223372036854775808 (memory) exact', () => {
    const dir = bundleDir(docker)
    expect(editBundle(dir)).toEqual({ declares: true, changed: true })
    const after = readFileSync(join(dir, 'config.json'), 'utf8')
    expect(after).toContain('"hard":18446744073709551615,"soft":18446744073709551615')
    expect(after).toContain('"limit":9223372036854775807,"reservation":-9223372036854775808')
    expect(after).not.toMatch(/18446744073709552000|922337203685477[56]000/)
  })

  it('leaves every byte outside the hooks identical: Docker\'s one-line config.json gets only its "hooks" key appended', () => {
    const dir = bundleDir(docker)
    editBundle(dir)
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe(`${docker.slice(0, -1)},${hooksJson()}}`)
  })

  it("appends to the hooks already there in place, in the file's own indentation, every other byte identical", () => {
    const before = '{\n\t"process": {"rlimits": [{"type": "RLIMIT_MEMLOCK", "hard": 18446744073709551615, "soft": 18446744073709551615}], "env": ["NICBACK_NICS=ens3:eth0"]},\n\t"hooks": {\n\t\t"poststop": [\n\t\t\t{"path": "/x"}\n\t\t]\n\t}\n}\n'
    const dir = bundleDir(before)
    expect(editBundle(dir, '/opt/nb')).toEqual({ declares: true, changed: true })
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe(
      '{\n\t"process": {"rlimits": [{"type": "RLIMIT_MEMLOCK", "hard": 18446744073709551615, "soft": 18446744073709551615}], "env": ["NICBACK_NICS=ens3:eth0"]},\n\t"hooks": {\n\t\t"poststop": [\n\t\t\t{"path": "/x"},\n' +
        '\t\t\t{\n\t\t\t\t"path": "/opt/nb",\n\t\t\t\t"args": [\n\t\t\t\t\t"nicback",\n\t\t\t\t\t"hook",\n\t\t\t\t\t"--stage",\n\t\t\t\t\t"poststop"\n\t\t\t\t]\n\t\t\t}\n\t\t],\n' +
        '\t\t"createRuntime": [\n\t\t\t{\n\t\t\t\t"path": "/opt/nb",\n\t\t\t\t"args": [\n\t\t\t\t\t"nicback",\n\t\t\t\t\t"hook",\n\t\t\t\t\t"--stage",\n\t\t\t\t\t"createRuntime"\n\t\t\t\t]\n\t\t\t}\n\t\t]\n\t}\n}\n',
    )
  })
})
