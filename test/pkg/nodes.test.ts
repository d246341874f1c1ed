// The supported nodes (issue 18): the built bundle in dist/ (esbuild target
// node18) on every node package.json's "engines" promises, each fetched by
// test/nodes.sh: Debian 12's own nodejs 18 (the Debian package depends on
// nodejs >= 18) and the npm registry's node 20, 22, 24 and 26. On each:
// every --help (the same text as on the node running vitest), the udev hot
// path (an add for a NIC that needs nothing: exit 0, no process started), a
// restore by hand and one by a udev add in a netns world, install/uninstall
// into a folder, and `nicback demo` (throwaway namespaces of its own). As root
// (network namespaces; node 18's builtins are overlaid in a private mount
// namespace). Never touches the machine's own network namespace. A node that
// cannot be fetched fails every test of the file, never skips it.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createWorld, destroyWorlds, type RestoreJson, requireRoot, type World } from '../netns/world.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const DIST = process.env.NBT_DIST ?? join(REPO, 'dist')
const NICBACK = join(DIST, 'nicback.mjs')
const UDEV = join(DIST, 'nicback-udev.cjs')
/** Every node test/nodes.sh gives, oldest first. */
const MAJORS = [18, 20, 22, 24, 26]
const isRoot = process.getuid?.() === 0
const run = isRoot || process.env.CI === 'true'

const nodes = new Map<number, { version: string; path: string }>()
let strace = ''
/** What the node running vitest prints for each --help: the text every
 *  other node must print too. */
const expected = new Map<string, string>()
const helpArgs: string[][] = []

function on(node: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(node, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 120_000 })
}

describe.skipIf(!run)('the bundle on every supported node', () => {
  beforeAll(() => {
    requireRoot()
    if (!existsSync(NICBACK)) throw new Error(`no ${NICBACK}: npm run build first`)
    strace = spawnSync('sh', ['-c', 'command -v strace'], { encoding: 'utf8' }).stdout.trim()
    if (strace === '') throw new Error('needs strace (apt-get install strace): it shows the udev hot path starts no process')
    const r = spawnSync('bash', [join(REPO, 'test/nodes.sh'), ...MAJORS.map(String)], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`test/nodes.sh failed:\n${r.stderr}${r.stdout}`)
    for (const m of r.stdout.matchAll(/^node (\d+) (\S+) (\S+)$/gm)) nodes.set(Number(m[1]), { version: m[2]!, path: m[3]! })
    expect([...nodes.keys()]).toEqual(MAJORS)
    const top = on(process.execPath, [NICBACK, '--help'])
    expect(top.status, top.stderr).toBe(0)
    const commands = [...top.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!)
    expect(commands.length).toBeGreaterThan(5)
    helpArgs.push(['--help'], ['--version'], ...commands.map((c) => [c, '--help']))
    for (const a of helpArgs) expected.set(a.join(' '), on(process.execPath, [NICBACK, ...a]).stdout)
  }, 300_000)
  afterAll(destroyWorlds)

  describe.each(MAJORS)('node %i', (major) => {
    let node = ''
    let w: World
    beforeAll(() => {
      node = nodes.get(major)?.path ?? ''
      if (node === '') throw new Error(`no node ${major}`)
      expect(on(node, ['-v']).stdout).toMatch(new RegExp(`^v${major}\\.`))
      w = createWorld({ nics: 4, node, nicback: NICBACK })
      const r = w.nicback(['record', ...w.nics])
      expect(r.code, r.stderr).toBe(0)
    })
    afterAll(() => w?.destroy())

    test('every --help and --version: the same text, nothing on stderr', () => {
      for (const a of helpArgs) {
        const r = on(node, [NICBACK, ...a])
        expect(r.status, `${a.join(' ')}: ${r.stderr}`).toBe(0)
        expect(r.stderr, a.join(' ')).toBe('')
        expect(r.stdout, a.join(' ')).toBe(expected.get(a.join(' ')))
      }
      expect(expected.get('--version')).toMatch(/^nicback \d/)
    })

    test('the udev hot path: an add for a NIC at home exits 0, silent, starting no process', () => {
      const reg = w.registryText()
      const trace = join(w.state, 'strace')
      const idx = w.link('eth1').ifindex
      const env = { ACTION: 'add', INTERFACE: 'eth1', IFINDEX: String(idx), DEVPATH: '/devices/pci0000:00/0000:00:03.0/net/eth1', SUBSYSTEM: 'net' }
      const r = w.exec([strace, '-f', '-qq', '-e', 'trace=execve', '-o', trace, node, UDEV], env)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toBe('')
      // node 18's wrapper starts unshare, sh and mount before node itself;
      // after node's own execve there is none.
      const execs = readFileSync(trace, 'utf8')
        .split('\n')
        .filter((l) => /execve\(/.test(l))
      const self = execs.findIndex((l) => /execve\("[^"]*\/node", .* = 0$/.test(l))
      expect(self, execs.join('\n')).toBeGreaterThanOrEqual(0)
      expect(execs.slice(self + 1)).toEqual([])
      expect(w.registryText()).toBe(reg)
    })

    test('a restore by hand and one by the udev add of the NIC come back', () => {
      const ctr = w.container()
      w.lend(ctr, ['eth2', 'eth1'], { eth2: 'eth0', eth1: 'eth3' })
      const idx = w.ifindexIn(ctr, 'eth2')
      const idx1 = w.ifindexIn(ctr, 'eth1')
      // eth0 and eth3 are taken on the host: both come back as dev<ifindex>.
      expect(w.handBack(ctr)).toEqual({ eth2: `dev${idx}`, eth1: `dev${idx1}` })
      const r = w.nicbackJson<RestoreJson>(['restore', 'eth2'])
      expect(r.code, r.stderr).toBe(0)
      expect(r.json.ok).toBe(true)
      expect(r.json.nics.find((n) => n.name === 'eth2')).toMatchObject({ was: `dev${idx}`, now: 'eth2', home: true })
      expect(w.where().eth1).toBe(`dev${idx1}`)
      const u = w.exec([node, UDEV], { ACTION: 'add', INTERFACE: `dev${idx1}`, IFINDEX: String(idx1), DEVPATH: `/devices/pci0000:00/0000:00:03.0/net/dev${idx1}`, SUBSYSTEM: 'net' })
      expect(u.code, u.stderr).toBe(0)
      expect(w.where()).toEqual(w.allHome())
      expect(w.link('eth1').flags).toContain('UP')
      expect(w.link('eth2').flags).toContain('UP')
    })

    test('install --root and uninstall --root (zx, the templates) leave nothing', () => {
      const root = mkdtempSync(join(tmpdir(), `nicback-n${major}-`))
      try {
        const i = on(node, [NICBACK, 'install', '--root', root, '--json'])
        expect(i.status, i.stderr).toBe(0)
        const files = (JSON.parse(i.stdout) as { files: string[] }).files
        expect(files).toContain('/etc/udev/rules.d/81-nicback.rules')
        for (const f of files) expect(existsSync(join(root, f)), f).toBe(true)
        const u = on(node, [NICBACK, 'uninstall', '--root', root, '--purge'])
        expect(u.status, u.stderr).toBe(0)
        for (const f of files) expect(existsSync(join(root, f)), f).toBe(false)
      } finally {
        rmSync(root, { recursive: true, force: true })
      }
    })

    test('nicback demo: the seed lost and fixed, every step on this node', () => {
      const state = mkdtempSync(join(tmpdir(), `nicback-n${major}-state-`))
      try {
        const r = on(node, [NICBACK, 'demo'], { NICBACK_STATE_DIR: state })
        expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0)
        expect(r.stdout).toMatch(/rename "dev\d+" to "eth2"/)
        expect(r.stdout).toMatch(/^ {2}eth2 +eth2 +home/m)
      } finally {
        rmSync(state, { recursive: true, force: true })
      }
      // the demo's namespaces are gone
      expect(existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith('nbdemo-')) : []).toEqual([])
    })
  })
})
