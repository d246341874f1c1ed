// The OCI runtime hook's two stages, the container's edges (podman and CRI-O
// through hooks.d, Docker through nicback-runtime, runc/crun through
// config.json):
//   createRuntime  the NICs it declares leave the host: nicback moves those of
//                  io.nicback.nics / NICBACK_NICS itself (moments/leave.ts
//                  nicsLeave), and records those of linux.netDevices, which
//                  the runtime moves;
//   poststop       the NICs recorded against it come back (moments/return.ts
//                  nicsComeBack).
// The rest of nicback (links, registry, moves) is imported only once there is
// something to do: with the when.always hooks every container start and stop
// runs this, and most declare no NIC.
import { readFileSync, readlinkSync } from 'node:fs'
import { shortId } from '../plan/describe.js'
import { log } from '../system/log.js'
import { isNetnsFile } from '../system/netns.js'
import { registryPath } from '../system/paths.js'
import { containerName, declaredNics, netnsMount, readBundle, type NicSpec, type OciState } from './oci.js'
import type { Away, Entry, Link } from '../types.js'
import { nicbackError } from '../system/errors.js'

/** Reads stdin up to `max` bytes; more is an error, not a truncation. */
export async function readStdin(max: number): Promise<string> {
  if (process.stdin.isTTY) throw nicbackError('oci', 'run the OCI hook', 'no container state on stdin (it is a terminal): "nicback hook" is meant to be run by an OCI runtime, which writes the state there')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > max) {
      process.stdin.destroy()
      throw nicbackError('oci', 'run the OCI hook', `the container state on stdin is larger than ${max} bytes: not an OCI state`)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Where the container's network namespace is, and its inode for the record. */
function netnsOf(pid: number): string {
  const path = `/proc/${pid}/ns/net`
  try {
    return readlinkSync(path)
  } catch (err) {
    throw nicbackError('oci', 'run the OCI hook', `cannot find the container's network namespace (${path}): ${(err as Error).message}`, { fix: `is pid ${pid} in the state still alive?` })
  }
}

function netnsMountOf(ns: string): string | null {
  try {
    const path = netnsMount(ns, readFileSync('/proc/self/mountinfo', 'utf8'))
    return path !== null && isNetnsFile(path) ? path : null
  } catch {
    return null
  }
}

/** linux.netDevices: the runtime moves the NIC (before or after this hook,
 *  depending on the runtime), nicback records where it went. The identity
 *  comes from the device while it is still here, else from the registry. */
async function recordNetDevice(spec: NicSpec, container: NonNullable<Away['container']>, netnsInode: number | undefined, reg: Entry[], live: Link[]): Promise<string> {
  const { departureByName } = await import('../plan/departure.js')
  const dep = departureByName(spec.host, live, reg, { via: 'hook', container, insideName: spec.inside, netnsInode })
  if (dep === null) {
    throw nicbackError('oci', 'run the OCI hook', `linux.netDevices names ${spec.host}, which is not in the host's network namespace and was never recorded: nicback cannot tell which NIC it is, so it could not give its name back`, {
      nic: spec.host,
      fix: `record the host's NICs before containers take them ("nicback record", done at boot by nicback-record.service)`,
    })
  }
  const { nicLeaves } = await import('../moments/leave.js')
  const note = nicLeaves(dep)
  if (note.recordedName === null) throw nicbackError('oci', 'run the OCI hook', note.message, { nic: spec.host })
  return `${spec.host} (linux.netDevices, "${spec.inside}" inside)`
}

/** createRuntime: the NICs the container declares leave the host. */
export async function createRuntime(state: OciState, force: boolean): Promise<number> {
  const config = readBundle(state.bundle)
  const declared = declaredNics(state, config)
  const { give, netDevices } = declared
  if (give.length === 0 && netDevices.length === 0) return 0

  const pid = state.pid ?? 0
  if (give.length > 0 && pid <= 0) throw nicbackError('oci', 'run the OCI hook', `the container state has no pid: cannot find the network namespace to move ${give.map((g) => g.host).join(', ')} into`)
  const ns = pid > 0 ? netnsOf(pid) : null
  const mount = ns === null ? null : netnsMountOf(ns)
  const container: NonNullable<Away['container']> = {
    id: state.id,
    name: containerName(state.annotations ?? config.annotations),
    ...(pid > 0 ? { pid } : {}),
    ...(mount !== null ? { netns: mount } : {}),
  }
  const who = `container ${shortId(state.id)}${container.name ? ` (${container.name})` : ''}`

  // Check first, act after: every NIC to move must be here under its name.
  const { readLinks } = await import('../facts/links.js')
  const { loadRegistry } = await import('../state/registry.js')
  const { notOnHost } = await import('../moments/leave.js')
  const links = readLinks()
  const missing = notOnHost(give, links)
  if (missing.length > 0) {
    throw nicbackError('oci', 'run the OCI hook', `${declared.giveFrom} of ${who} lists ${missing.map((m) => m.host).join(', ')}, not in the host's network namespace (see "nicback status")`)
  }

  const done: string[] = []
  if (netDevices.length > 0) {
    const reg = loadRegistry().nics
    const m = ns === null ? null : /^net:\[(\d+)\]$/.exec(ns)
    const inode = m ? Number(m[1]) : undefined
    for (const spec of netDevices) done.push(await recordNetDevice(spec, container, inode, reg, links))
  }

  if (give.length > 0) {
    const { nicsLeave, isMoveError } = await import('../moments/leave.js')
    const { openNetns } = await import('../system/netns.js')
    // By its bind mount when it has one: recorded, it finds the NIC again at poststop.
    let target
    try {
      target = openNetns(mount ?? `/proc/${pid}/ns/net`, who)
    } catch (err) {
      throw nicbackError('oci', 'run the OCI hook', `cannot give ${give.map((g) => g.host).join(', ')} to ${who}: ${(err as Error).message}`)
    }
    try {
      await nicsLeave(give, target, { via: 'hook', force, container })
    } catch (err) {
      if (isMoveError(err)) throw nicbackError('oci', 'run the OCI hook', `cannot give ${err.nic ?? give.map((g) => g.host).join(', ')} to ${who}: ${err.message}`)
      throw err
    } finally {
      target.close()
    }
    done.push(...give.map((g) => `${g.host} ("${g.inside}" inside)`))
  }
  log.info(`${who} created: ${done.join(', ')} left the host`, { nics: done, container: who, stage: 'createRuntime' })
  return 0
}

/** A network namespace file the container joined (config.json
 *  linux.namespaces: podman with a network, CNI): such a netns outlives the
 *  container's processes until after the runtime's delete has returned, so
 *  a NIC in it is not coming back by itself while poststop runs. */
function joinedNetns(bundle: string): string | undefined {
  try {
    return readBundle(bundle).linux?.namespaces?.find((n) => n.type === 'network')?.path
  } catch {
    // the bundle is the runtime's business at this point; the record may do
    return undefined
  }
}

/** poststop: every NIC recorded against the container comes home. */
export async function poststop(state: OciState, waitMs: number): Promise<number> {
  // Cheap first look: a registry that does not even mention the id has
  // nothing recorded against this container.
  let text = ''
  try {
    text = readFileSync(registryPath(), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0
  }
  if (text !== '' && !text.includes(JSON.stringify(state.id))) return 0
  const { loadRegistry } = await import('../state/registry.js')
  const { logReport, nicsComeBack } = await import('../moments/return.js')
  const { containerNicsNow } = await import('./target.js')
  const who = `container ${shortId(state.id)}`
  const t0 = performance.now()
  // A netns that outlives the container (Docker's bind mount found at
  // createRuntime, a netns the container joined): take the NICs out of it
  // under their host names.
  const { names, from } = containerNicsNow(loadRegistry().nics, (c) => c?.id === state.id, { held: () => [joinedNetns(state.bundle)], who })
  if (names.length === 0) return 0
  let r
  try {
    r = await nicsComeBack(names, { from, timeoutMs: waitMs, who })
  } finally {
    from?.close()
  }
  if (r.report) logReport(r.report)
  const home = r.report?.nics.filter((n) => n.home && names.includes(n.name)).map((n) => n.name) ?? []
  if (home.length > 0) {
    const ms = Math.round(performance.now() - t0)
    log.info(`${who} stopped: ${home.join(', ')} home again (${ms} ms)`, { nics: home, container: who, stage: 'poststop', ms })
  }
  for (const f of r.failures) {
    const fix = f.code === 'timeout' ? `nicback's udev rule gives it its name when it returns, or run "nicback restore ${f.name}" then` : undefined
    log.error(fix === undefined ? f.error : `${f.error}; ${fix}`, { nic: f.name, code: f.code, cause: f.error, fix, container: who })
  }
  return r.failures.length === 0 && (r.report?.ok ?? true) ? 0 : 1
}
