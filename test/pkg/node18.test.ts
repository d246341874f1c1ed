// Issue 12: the package depends on nodejs (>= 18) because Debian 12's own
// nodejs is 18, so the bundle in dist/ (esbuild target node18) must run on
// it. vitest itself needs node 20; this file runs the built nicback with
// Debian 12's node 18 (deploy/debian/node18.sh: the packages unpacked in a
// cache, never installed): every --help, the udev hot path, install/uninstall
// into a folder, and `nicback demo` (the seed's loss and its fix in throwaway
// network namespaces: record, leave, return, restore, status, all on 18).
// As root (network namespaces; node 18's builtins are overlaid in a private
// mount namespace). Never touches the machine's own network namespace.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, test } from 'vitest'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const DIST = process.env.NBT_DIST ?? join(REPO, 'dist')
const NICBACK = join(DIST, 'nicback.mjs')
const isRoot = process.getuid?.() === 0
const run = isRoot || process.env.CI === 'true'

let node18 = ''
function n18(args: string[], env: Record<string, string> = {}) {
  return spawnSync(node18, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 120_000 })
}
function n20(args: string[]) {
  return spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
}

describe.skipIf(!run)("the bundle on Debian 12's node 18", () => {
  beforeAll(() => {
    if (!isRoot) throw new Error('needs root (deploy/debian/node18.sh, network namespaces)')
    if (!existsSync(NICBACK)) throw new Error(`no ${NICBACK}: npm run build first`)
    const r = spawnSync('bash', [join(REPO, 'deploy/debian/node18.sh')], { encoding: 'utf8' })
    const cache = /^node18 ready (.+)$/m.exec(r.stdout)?.[1]
    if (r.status !== 0 || !cache) throw new Error(`deploy/debian/node18.sh failed:\n${r.stderr}${r.stdout}`)
    node18 = join(cache, 'node18')
    expect(n18(['-v']).stdout).toMatch(/^v18\./)
  }, 300_000)

  test('every --help is the same as on node 20', () => {
    const top = n18([NICBACK, '--help'])
    expect(top.status, top.stderr).toBe(0)
    expect(top.stdout).toBe(n20([NICBACK, '--help']).stdout)
    const commands = [...top.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!)
    expect(commands.length).toBeGreaterThan(5)
    for (const c of commands) {
      const r = n18([NICBACK, c, '--help'])
      expect(r.status, `${c}: ${r.stderr}`).toBe(0)
      expect(r.stdout, c).toBe(n20([NICBACK, c, '--help']).stdout)
    }
    expect(n18([NICBACK, '--version']).stdout).toMatch(/^nicback \d/)
  }, 300_000)

  test('the udev hot path exits 0 at once for a virtual device', () => {
    const r = n18([join(DIST, 'nicback-udev.cjs')], { ACTION: 'add', INTERFACE: 'lo', DEVPATH: '/devices/virtual/net/lo', SUBSYSTEM: 'net' })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
  }, 300_000)

  test('install --root and uninstall --root (zx, the templates) leave nothing', () => {
    const root = mkdtempSync(join(tmpdir(), 'nicback-n18-'))
    try {
      const i = n18([NICBACK, 'install', '--root', root, '--json'])
      expect(i.status, i.stderr).toBe(0)
      const files = (JSON.parse(i.stdout) as { files: string[] }).files
      expect(files).toContain('/etc/udev/rules.d/81-nicback.rules')
      for (const f of files) expect(existsSync(join(root, f)), f).toBe(true)
      const u = n18([NICBACK, 'uninstall', '--root', root, '--purge'])
      expect(u.status, u.stderr).toBe(0)
      for (const f of files) expect(existsSync(join(root, f)), f).toBe(false)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  }, 300_000)

  test('nicback demo: the seed lost and fixed, every step on node 18', () => {
    const state = mkdtempSync(join(tmpdir(), 'nicback-n18-state-'))
    try {
      const r = n18([NICBACK, 'demo'], { NICBACK_STATE_DIR: state })
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0)
      expect(r.stdout).toMatch(/rename "dev\d+" to "eth2"/)
      expect(r.stdout).toMatch(/^ {2}eth2 +eth2 +home/m)
    } finally {
      rmSync(state, { recursive: true, force: true })
    }
    // the demo's namespaces are gone
    expect(existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith('nbdemo-')) : []).toEqual([])
  }, 300_000)
})
