// Start-up of the udev hot path under the node versions the package can run
// on: Debian 12's own node 18 (deploy/debian/node18.sh), this machine's node
// 20, and a node 20 single executable (SEA) carrying nicback-udev.cjs, each
// against its own `node -e 0` (docs/measurements.md, "Start-up cost": target <= 1.2x).
// The event is a virtual device's add, which exits at once, as a NIC at home
// does after one sysfs read.
//   node deploy/debian/measure-start.mjs [DIST] [--runs N] [--sea]
// As root (node 18's builtins are overlaid on /usr/share in a private mount
// namespace, once, for the whole run).
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const args = process.argv.slice(2)
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d)
const runs = Number(opt('--runs', '21'))
const dist = resolve(args.find((a, i) => !a.startsWith('--') && !['--runs'].includes(args[i - 1])) ?? join(repo, 'dist'))
const udev = join(dist, 'nicback-udev.cjs')

if (process.env.NICBACK_MEASURE_INNER !== '1') {
  // Re-run inside a private mount namespace with node 18's /usr/share/nodejs.
  const n18 = spawnSync('bash', [join(repo, 'deploy/debian/node18.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  const cache = /node18 ready (.+)$/m.exec(n18.stdout)?.[1]
  if (n18.status !== 0 || !cache) throw new Error('deploy/debian/node18.sh failed')
  const script = `mount -t overlay nicback-node18 -o lowerdir=${cache}/root/usr/share:/usr/share /usr/share && exec "$0" "$@"`
  const r = spawnSync('unshare', ['-m', 'sh', '-c', script, process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NICBACK_MEASURE_INNER: '1', NICBACK_NODE18_ROOT: `${cache}/root` },
  })
  process.exit(r.status ?? 1)
}

const root18 = process.env.NICBACK_NODE18_ROOT
const env18 = { ...process.env, LD_LIBRARY_PATH: `${root18}/usr/lib/x86_64-linux-gnu` }
const event = { ACTION: 'add', INTERFACE: 'lo', DEVPATH: '/devices/virtual/net/lo', SUBSYSTEM: 'net' }
const node18 = `${root18}/usr/bin/node`
const v = (bin, env) => spawnSync(bin, ['-v'], { encoding: 'utf8', env }).stdout.trim()

const cases = [
  { name: `node ${v(process.execPath)} -e 0`, cmd: [process.execPath, '-e', '0'] },
  { name: `node ${v(process.execPath)} nicback-udev.cjs`, cmd: [process.execPath, udev], env: event },
  { name: `node ${v(node18, env18)} -e 0 (Debian 12)`, cmd: [node18, '-e', '0'], base: env18 },
  { name: `node ${v(node18, env18)} nicback-udev.cjs (Debian 12)`, cmd: [node18, udev], base: env18, env: event },
]

let seaDir = null
if (args.includes('--sea')) {
  // node 20 SEA: the node binary with nicback-udev.cjs injected (postject).
  seaDir = mkdtempSync(join(tmpdir(), 'nicback-sea-'))
  const bin = join(seaDir, 'nicback-udev')
  writeFileSync(join(seaDir, 'sea.json'), JSON.stringify({ main: udev, output: join(seaDir, 'blob'), disableExperimentalSEAWarning: true, useCodeCache: true }))
  const steps = [
    [process.execPath, ['--experimental-sea-config', join(seaDir, 'sea.json')]],
    ['npx', ['--yes', 'postject@1.0.0-alpha.6', bin, 'NODE_SEA_BLOB', join(seaDir, 'blob'), '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2']],
  ]
  copyFileSync(process.execPath, bin)
  for (const [c, a] of steps) {
    const r = spawnSync(c, a, { stdio: ['ignore', 'ignore', 'inherit'] })
    if (r.status !== 0) throw new Error(`${c} ${a.join(' ')} failed`)
  }
  cases.push({ name: `SEA node ${v(process.execPath)} nicback-udev`, cmd: [bin], env: event })
}

const times = cases.map(() => [])
for (let i = 0; i < runs + 1; i++) {
  cases.forEach((c, j) => {
    const t0 = performance.now()
    const r = spawnSync(c.cmd[0], c.cmd.slice(1), { stdio: 'ignore', env: { ...(c.base ?? process.env), ...(c.env ?? {}) } })
    const ms = performance.now() - t0
    if (r.status !== 0) throw new Error(`${c.name} exited ${r.status}`)
    if (i > 0) times[j].push(ms) // the first round warms the page cache
  })
}
const q = (a, p) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))]
const med = times.map((t) => q(t, 0.5))
console.log(`| case (median of ${runs}, interleaved) | median ms | p90 ms | x own \`node -e 0\` |`)
console.log('| --- | ---: | ---: | ---: |')
cases.forEach((c, j) => {
  const base = c.cmd[0] === node18 ? med[2] : med[0]
  console.log(`| ${c.name} | ${med[j].toFixed(1)} | ${q(times[j], 0.9).toFixed(1)} | ${(med[j] / base).toFixed(2)}x |`)
})
if (seaDir && existsSync(seaDir)) rmSync(seaDir, { recursive: true, force: true })
