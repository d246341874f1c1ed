// `nicback hook`: the OCI runtime hook (podman and CRI-O through hooks.d,
// Docker through nicback-runtime, runc/crun through config.json). The two
// moments at the container's edges:
//   createRuntime  the NICs it declares leave the host: nicback moves those of
//                  io.nicback.nics / NICBACK_NICS itself, and records those of
//                  linux.netDevices, which the runtime moves;
//   poststop       the NICs recorded against it come back: wait for the
//                  kernel to hand them back, then give them their names.
// Everything is checked before anything is done; a failure says why on stderr
// (which the runtime reports) and in syslog, never with a stack trace.
import { readFileSync, readlinkSync } from 'node:fs'
import { parse, UsageError, type Command } from '../lib/cli.js'
import { isNetnsFile } from '../lib/container.js'
import { shortId } from '../lib/planner.js'
import type { Departure } from '../lib/leave.js'
import { log, logToSyslog } from '../lib/log.js'
import { registryPath } from '../lib/paths.js'
import { containerName, declaredNics, MAX_STATE_BYTES, netnsMount, OciError, parseStage, parseState, readBundle, type NicSpec, type OciState } from '../lib/oci.js'
import type { Away, Entry, Link } from '../lib/types.js'
// The rest of nicback (links, registry, moves) is imported only once there is
// something to do: with the when.always hooks every container start and stop
// runs this, and most declare no NIC.

const help = `Usage: nicback hook --stage STAGE [--timeout SEC] [--force]

Run by an OCI runtime (runc, crun) at a container's edges, with the
container's state (runtime-spec: ociVersion, id, status, pid, bundle,
annotations) on stdin. The stage comes from --stage or NICBACK_HOOK_STAGE,
because the runtime does not say it:

  createRuntime  (or the deprecated prestart) the NICs the container declares
                 leave the host:
                 - annotation io.nicback.nics, or NICBACK_NICS in the
                   container's environment: "eth2:eth0,eth3" (host name,
                   optional name inside). nicback records each NIC, moves it
                   into the container's network namespace (/proc/PID/ns/net)
                   and names it there; if one cannot be moved, those moved
                   before are brought back and the hook fails.
                 - linux.netDevices of the bundle's config.json: the runtime
                   moves them; nicback records them.
                 A container that declares none costs one read of config.json.
  poststop       every NIC recorded against this container id comes home
                 under its host name, with its MAC, MTU and admin state: taken
                 straight out of the container's network namespace when that
                 outlives the container (Docker keeps it under a bind mount
                 until after the runtime's delete), else once the kernel has
                 handed it back (waits at most --timeout, default
                 NICBACK_HOOK_TIMEOUT or 10 s). Nothing to do when udev's rule
                 got there first.

  --timeout SEC  poststop: how long to wait for the NICs to come back
  --force        createRuntime: move a NIC the checks of "nicback assign"
                 refuse without --force (a virtual device, one that carries
                 the host's default route or addresses, one recorded as away)

Installed by "nicback install" as oci-hooks(5) files in
/usr/share/containers/oci/hooks.d (podman, CRI-O), and added to config.json by
nicback-runtime (Docker: "nicback install --docker"). Logs to syslog under
the tag "nicback".

Exit status: 0 done (or nothing to do), 1 failed (the message says which NIC
and why; nothing is left half-moved or half-renamed), 2 bad usage.
`

/** Reads stdin up to `max` bytes; more is an error, not a truncation. */
async function readStdin(max: number): Promise<string> {
  if (process.stdin.isTTY) throw new OciError('no container state on stdin (it is a terminal): "nicback hook" is meant to be run by an OCI runtime, which writes the state there')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_STATE_BYTES) {
      process.stdin.destroy()
      throw new OciError(`the container state on stdin is larger than ${MAX_STATE_BYTES} bytes: not an OCI state`)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function timeoutMs(value: string | undefined): number {
  const raw = value ?? process.env.NICBACK_HOOK_TIMEOUT
  if (raw === undefined || raw === '') return 10_000
  const sec = Number(raw)
  if (!Number.isFinite(sec) || sec <= 0 || sec > 3600) throw new UsageError(`timeout "${raw}" is not a number of seconds between 0 and 3600`)
  return Math.round(sec * 1000)
}

/** Where the container's network namespace is, and its inode for the record. */
function netnsOf(pid: number): string {
  const path = `/proc/${pid}/ns/net`
  try {
    return readlinkSync(path)
  } catch (err) {
    throw new OciError(`cannot find the container's network namespace (${path}): ${(err as Error).message}; is pid ${pid} in the state still alive?`)
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
async function recordNetDevice(spec: NicSpec, container: NonNullable<Away['container']>, reg: Entry[], live: Link[]): Promise<string> {
  const link = live.find((l) => l.name === spec.host)
  const entry = reg.find((e) => e.name === spec.host)
  let dep: Departure
  if (link !== undefined) {
    dep = { name: link.name, ifindex: link.ifindex, bus: link.bus, devPort: link.devPort, permAddr: link.permAddr, mac: link.mac, live: link, via: 'hook', container, insideName: spec.inside }
  } else if (entry !== undefined) {
    dep = { name: entry.name, ifindex: entry.ifindex, bus: entry.bus, devPort: entry.devPort, permAddr: entry.permAddr, mac: entry.mac, via: 'hook', container, insideName: spec.inside }
  } else {
    throw new OciError(
      `linux.netDevices names ${spec.host}, which is not in the host's network namespace and was never recorded: nicback cannot tell which NIC it is, ` +
        `so it could not give its name back; record the host's NICs before containers take them ("nicback record", done at boot by nicback-record.service)`,
    )
  }
  const { nicLeaves } = await import('../lib/leave.js')
  const note = nicLeaves(dep)
  if (note.recordedName === null) throw new OciError(note.message)
  return `${spec.host} (linux.netDevices, "${spec.inside}" inside)`
}

async function createRuntime(state: OciState, force: boolean): Promise<number> {
  const config = readBundle(state.bundle)
  const declared = declaredNics(state, config)
  const { give, netDevices } = declared
  if (give.length === 0 && netDevices.length === 0) return 0

  const pid = state.pid ?? 0
  if (give.length > 0 && pid <= 0) throw new OciError(`the container state has no pid: cannot find the network namespace to move ${give.map((g) => g.host).join(', ')} into`)
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
  const { readLinks } = await import('../lib/links.js')
  const { loadRegistry } = await import('../lib/registry.js')
  const links = readLinks()
  const missing = give.filter((g) => !links.some((l) => l.name === g.host))
  if (missing.length > 0) {
    throw new OciError(`${declared.giveFrom} of ${who} lists ${missing.map((m) => m.host).join(', ')}, not in the host's network namespace (see "nicback status")`)
  }

  const done: string[] = []
  if (netDevices.length > 0) {
    const reg = loadRegistry().nics
    for (const spec of netDevices) done.push(await recordNetDevice(spec, container, reg, links))
  }

  const { giveNic, takeBackNic } = await import('../lib/move.js')
  const given: NicSpec[] = []
  for (const spec of give) {
    try {
      // By its bind mount when it has one: recorded, it finds the NIC again at poststop.
      const target = mount !== null ? { netns: mount } : { pid }
      await giveNic(spec.host, { ...target, container: { id: container.id, name: container.name } }, { insideName: spec.inside, via: 'hook', force })
      given.push(spec)
      done.push(`${spec.host} ("${spec.inside}" inside)`)
    } catch (err) {
      // All or nothing: the NICs moved before this one come back out.
      const undoErrors: string[] = []
      for (const g of given.reverse()) {
        try {
          const r = await takeBackNic(g.host, { target: { pid } })
          if (!r.ok) undoErrors.push(`${g.host}: ${r.errors.join('; ')}`)
        } catch (e) {
          undoErrors.push(`${g.host}: ${(e as Error).message}`)
        }
      }
      const undone =
        given.length === 0 ? '' : undoErrors.length === 0 ? `; ${given.map((g) => g.host).join(', ')}, moved before it, brought back` : `; bringing back what was moved before it failed too: ${undoErrors.join('; ')}`
      throw new OciError(`cannot give ${spec.host} to ${who}: ${(err as Error).message}${undone}`)
    }
  }
  log.info(`${who} created: ${done.join(', ')} left the host`)
  return 0
}

/** A network namespace file the container joined (config.json
 *  linux.namespaces: podman with a network, CNI), or the bind mount found at
 *  createRuntime (Docker's libnetwork), still alive: such a netns outlives
 *  the container's processes until after the runtime's delete has returned,
 *  so a NIC in it is not coming back by itself while poststop runs. */
function heldNetns(bundle: string, recorded: Entry[]): string | null {
  let path: string | undefined
  try {
    path = readBundle(bundle).linux?.namespaces?.find((n) => n.type === 'network')?.path
  } catch {
    // the bundle is the runtime's business at this point; the record may do
  }
  for (const p of [path, ...recorded.map((e) => e.away?.container?.netns)]) {
    if (p && isNetnsFile(p)) return p
  }
  return null
}

async function poststop(state: OciState, waitMs: number): Promise<number> {
  // Cheap first look: a registry that does not even mention the id has
  // nothing recorded against this container.
  let text = ''
  try {
    text = readFileSync(registryPath(), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0
  }
  if (text !== '' && !text.includes(JSON.stringify(state.id))) return 0
  const { loadRegistry } = await import('../lib/registry.js')
  const { logReport, nicReturns } = await import('../lib/return.js')
  const recorded = loadRegistry().nics.filter((e) => e.away?.container?.id === state.id)
  const names = recorded.map((e) => e.name)
  if (names.length === 0) return 0
  const who = `container ${shortId(state.id)}`
  const t0 = performance.now()
  let ok = true
  const home: string[] = []
  let rest = names
  const netns = heldNetns(state.bundle, recorded)
  if (netns !== null) {
    // Take them out of it, under their host names: no devN ever appears.
    const { takeBackNic, MoveError } = await import('../lib/move.js')
    rest = []
    for (const name of names) {
      try {
        const r = await takeBackNic(name, { target: { netns }, timeoutMs: waitMs })
        if (r.ok) home.push(name)
        else {
          ok = false
          for (const e of r.errors) log.error(e)
        }
      } catch (err) {
        // Not in there (on its way back already?): wait for it below.
        if (err instanceof MoveError && err.kind === 'failed') rest.push(name)
        else {
          ok = false
          log.error(`cannot take ${name} back from ${who}: ${(err as Error).message}`)
        }
      }
    }
  }
  let missing: string[] = []
  if (rest.length > 0) {
    const { waitForReturn } = await import('../lib/wait.js')
    const w = await waitForReturn(rest, waitMs)
    missing = w.missing
    if (w.back.length > 0) {
      const report = nicReturns({ select: { kind: 'names', names: w.back } })
      logReport(report)
      ok &&= report.ok
      home.push(...report.nics.filter((n) => n.home && w.back.includes(n.name)).map((n) => n.name))
    }
  }
  if (home.length > 0) log.info(`${who} stopped: ${home.join(', ')} home again (${Math.round(performance.now() - t0)} ms)`)
  for (const name of missing) {
    log.error(
      `${name} did not come back from ${who} within ${waitMs / 1000} s: something still holds the container's network namespace (a process, a bind mount); ` +
        `nicback's udev rule gives it its name when it returns, or run "nicback restore ${name}" then`,
    )
  }
  return ok && missing.length === 0 ? 0 : 1
}

export default {
  summary: 'OCI runtime hook: NICs leave at createRuntime, come home at poststop',
  help,
  async main(argv) {
    logToSyslog()
    const { values } = parse(argv, { stage: { type: 'string' }, timeout: { type: 'string' }, force: { type: 'boolean' } }, false)
    const waitMs = timeoutMs(values.timeout)
    const stage = parseStage(values.stage ?? process.env.NICBACK_HOOK_STAGE)
    const state = parseState(await readStdin(MAX_STATE_BYTES))
    try {
      return stage === 'poststop' ? await poststop(state, waitMs) : await createRuntime(state, values.force === true)
    } catch (err) {
      if (err instanceof OciError) {
        log.error(`hook ${stage}: ${err.message}`)
        return 1
      }
      throw err
    }
  },
} satisfies Command
