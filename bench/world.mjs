// The bench's throwaway worlds (`npm run bench`): network namespaces named
// nbb-<pid>-*, registries in temporary folders, all deleted when the bench
// exits, also on Ctrl-C.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const NICBACK = process.env.BENCH_NICBACK ?? join(REPO, 'dist', 'nicback.mjs')
export const NODE = process.execPath

const tag = `nbb-${process.pid}-`
const namespaces = []
const tmpDirs = []

export function sh(cmd, args, input) {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
}
export const batch = (ns, lines) => sh('ip', ['-n', ns, '-batch', '-'], `${lines.join('\n')}\n`)
export const links = (ns) => JSON.parse(sh('ip', ['-n', ns, '-json', 'link', 'show'])).filter((l) => l.link_type !== 'loopback')

function addNs(name) {
  const ns = `${tag}${name}`
  sh('ip', ['netns', 'add', ns])
  namespaces.push(ns)
  return ns
}

/** A temporary folder, deleted at exit. */
export function tempDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix))
  tmpDirs.push(d)
  return d
}

function cleanup() {
  for (const ns of namespaces.splice(0)) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true })
}
process.once('exit', cleanup)
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    cleanup()
    process.exit(130)
  })
}

function nicback(ns, state, args, env = {}) {
  return spawnSync('ip', ['netns', 'exec', ns, NODE, NICBACK, ...args], {
    encoding: 'utf8',
    env: { ...cleanEnv(), NICBACK_STATE_DIR: state, ...env },
  })
}

export function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NICBACK_')))
}

/** A host netns with `n` veth stand-ins eth0..eth<n-1> (peers in a wire
 *  netns), up, all recorded by nicback in a fresh registry. */
export function world(name, n) {
  const host = addNs(`${name}-host`)
  const wire = addNs(`${name}-wire`)
  const state = tempDir('nicback-bench-')
  const names = Array.from({ length: n }, (_, i) => `eth${i}`)
  batch(host, [...names.map((nm, i) => `link add ${nm} type veth peer name p${i} netns ${wire}`), ...names.map((nm) => `link set ${nm} up`)])
  const r = nicback(host, state, ['record', ...names])
  if (r.status !== 0) throw new Error(`nicback record failed in ${host}: ${r.stderr}`)
  const ifindex = Object.fromEntries(links(host).map((l) => [l.ifname, l.ifindex]))
  return { host, state, names, ifindex }
}

/** Puts these stand-ins in the state the kernel leaves a NIC in after a
 *  container whose side named it like a host NIC dies: down, dev<ifindex>.
 *  (Same kernel and registry state as a real lend + hand-back, see
 *  test/netns/world.ts; done here directly so that resets stay cheap.) */
export function sendBack(w, nics) {
  batch(
    w.host,
    nics.flatMap((n) => [`link set ${n} down`, `link set ${n} name dev${w.ifindex[n]}`]),
  )
}

export function assertHome(w, what) {
  const now = new Set(links(w.host).map((l) => l.ifname))
  const missing = w.names.filter((n) => !now.has(n))
  if (missing.length > 0) throw new Error(`${what}: not home after the run: ${missing.join(', ')}`)
}
