// What an OCI runtime hands nicback's hook, checked before anything acts on
// it: the container state on stdin (runtime-spec runtime.md "State"), the
// NICs the container declares (the io.nicback.nics annotation or the
// NICBACK_NICS variable, which nicback moves itself; linux.netDevices, which
// the runtime moves) and the bundle's config.json. Not pure: the parsers are,
// but readBounded() reads a file (a regular file only, opened non-blocking,
// at most a bound: system/bounded.ts) and readBundle() reads the bundle's
// config.json through it.
import { isAbsolute, join } from 'node:path'
import * as v from 'valibot'
import { IFNAME_RULE, isValidIfname } from '../facts/names.js'
import { envValue, NICS_ANNOTATION, NICS_ENV } from './declare.js'
import { readBounded as readRegularBounded } from '../system/bounded.js'
import { isNicbackError, nicbackError } from '../system/errors.js'
/** runtime-spec hook stages nicback acts on; prestart is createRuntime's deprecated twin. */
export const STAGES = ['createRuntime', 'prestart', 'poststop'] as const
export type Stage = (typeof STAGES)[number]
/** The most nicback reads from stdin or a config.json: a runtime's state is ~1 KiB. */
export const MAX_STATE_BYTES = 1 << 20
export const MAX_CONFIG_BYTES = 16 << 20

/** valibot's record() takes an array for an object; runtime-spec maps are objects. */
const stringMap = v.pipe(
  v.custom<unknown>((x) => typeof x === 'object' && x !== null && !Array.isArray(x), 'must be an object of strings'),
  v.record(v.string(), v.string()),
)

const StateSchema = v.object({
  ociVersion: v.pipe(v.string(), v.minLength(1, 'must not be empty')),
  id: v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(1024, 'is longer than 1024 characters')),
  status: v.pipe(v.string(), v.minLength(1, 'must not be empty')),
  pid: v.optional(v.pipe(v.number(), v.safeInteger('must be an integer'), v.minValue(0, 'must not be negative'))),
  bundle: v.pipe(v.string(), v.check(isAbsolute, 'must be an absolute path')),
  annotations: v.optional(stringMap),
})

export type OciState = v.InferOutput<typeof StateSchema>

function issues(r: { issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]] }): string {
  return r.issues
    .slice(0, 3)
    .map((i) => `${v.getDotPath(i) ?? '(top)'}: ${i.received === 'undefined' ? 'missing' : i.message}`)
    .join('; ')
}

/** Parses and checks the state a runtime writes on a hook's stdin. */
export function parseState(text: string): OciState {
  if (Buffer.byteLength(text) > MAX_STATE_BYTES) throw nicbackError('oci', 'read the OCI state', `the container state on stdin is larger than ${MAX_STATE_BYTES} bytes: not an OCI state`)
  if (text.trim() === '') throw nicbackError('oci', 'read the OCI state', 'no container state on stdin: "nicback hook" is meant to be run by an OCI runtime (runc, crun), which writes the state there')
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw nicbackError('oci', 'read the OCI state', `the container state on stdin is not valid JSON (${(err as Error).message})`)
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw nicbackError('oci', 'read the OCI state', 'the container state on stdin is not a JSON object')
  const r = v.safeParse(StateSchema, data)
  if (!r.success) throw nicbackError('oci', 'read the OCI state', `the container state on stdin is not an OCI state (${issues(r)})`)
  return r.output
}

/** One NIC a container declares: its host name and the name it gets inside. */
export interface NicSpec {
  host: string
  inside: string
}

/** Parses `eth2:eth0,eth3` (host name, optional name inside; spaces around
 *  names are ignored). `where` names the source in error messages. */
export function parseNicList(text: string, where: string): NicSpec[] {
  if (text.trim() === '') throw nicbackError('oci', 'read the OCI state', `${where} is empty: list NICs as HOST[:INSIDE],... (e.g. "eth2:eth0,eth3")`)
  const specs: NicSpec[] = []
  for (const [i, raw] of text.split(',').entries()) {
    const item = raw.trim()
    if (item === '') throw nicbackError('oci', 'read the OCI state', `${where} "${text}": entry ${i + 1} is empty (stray comma?)`)
    const parts = item.split(':').map((p) => p.trim())
    if (parts.length > 2) throw nicbackError('oci', 'read the OCI state', `${where} "${text}": "${item}" has more than one ":" (HOST[:INSIDE])`)
    const host = parts[0]!
    const inside = parts[1] ?? host
    for (const [what, name] of [
      ['host', host],
      ['inside', inside],
    ] as const) {
      if (!isValidIfname(name)) throw nicbackError('oci', 'read the OCI state', `${where} "${text}": ${what} name "${name}" is not a valid interface name (${IFNAME_RULE})`)
    }
    const dupHost = specs.find((s) => s.host === host)
    if (dupHost) throw nicbackError('oci', 'read the OCI state', `${where} "${text}": ${host} is listed twice`)
    const dupInside = specs.find((s) => s.inside === inside)
    if (dupInside) throw nicbackError('oci', 'read the OCI state', `${where} "${text}": ${dupInside.host} and ${host} would both be "${inside}" inside`)
    specs.push({ host, inside })
  }
  return specs
}

/** The part of a bundle's config.json nicback reads. Unknown fields pass. */
export interface BundleConfig {
  annotations?: Record<string, string>
  process?: { env?: string[] }
  linux?: { netDevices?: Record<string, { name?: string }>; namespaces?: { type: string; path?: string }[] }
}

const ConfigSchema = v.looseObject({
  annotations: v.optional(stringMap),
  process: v.optional(v.looseObject({ env: v.optional(v.array(v.string())) })),
  linux: v.optional(
    v.looseObject({
      netDevices: v.optional(v.record(v.string(), v.looseObject({ name: v.optional(v.string()) }))),
      namespaces: v.optional(v.array(v.looseObject({ type: v.string(), path: v.optional(v.string()) }))),
    }),
  ),
})

export function parseConfig(text: string, path: string): BundleConfig {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw nicbackError('oci', 'read the OCI state', `${path} is not valid JSON (${(err as Error).message})`)
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw nicbackError('oci', 'read the OCI state', `${path} is not a JSON object`)
  const r = v.safeParse(ConfigSchema, data)
  if (!r.success) throw nicbackError('oci', 'read the OCI state', `${path} is not an OCI runtime config (${issues(r)})`)
  return r.output as BundleConfig
}

/** Reads at most `max` bytes of a regular file (system/bounded.ts: a FIFO
 *  put where config.json should be must not hang the runtime). */
export function readBounded(path: string, max: number): string {
  try {
    return readRegularBounded(path, max)
  } catch (err) {
    throw isNicbackError(err, 'bounded_read') ? nicbackError('oci', 'read the OCI state', err.message) : err
  }
}

/** The bundle's config.json, checked. */
export function readBundle(bundle: string): BundleConfig {
  const path = join(bundle, 'config.json')
  let text: string
  try {
    text = readBounded(path, MAX_CONFIG_BYTES)
  } catch (err) {
    if (isNicbackError(err, 'oci')) throw err
    throw nicbackError('oci', 'read the OCI state', `cannot read the bundle's ${path}: ${(err as Error).message}`)
  }
  return parseConfig(text, path)
}

/** Everything a container declares, by who moves the NIC. */
export interface Declared {
  /** nicback moves these (annotation or NICBACK_NICS), with where the list came from. */
  give: NicSpec[]
  giveFrom: string | null
  /** The runtime moves these (linux.netDevices): nicback only records them. */
  netDevices: NicSpec[]
}

/** The NICs a container declares. The state's annotations come first (the
 *  runtime copies config.json's there), then config.json's, then the
 *  container's environment. */
export function declaredNics(state: Pick<OciState, 'annotations'>, config: BundleConfig | null): Declared {
  const fromState = state.annotations?.[NICS_ANNOTATION]
  const fromConfig = config?.annotations?.[NICS_ANNOTATION]
  const fromEnv = envValue(config?.process?.env, NICS_ENV)
  const [list, giveFrom] =
    fromState !== undefined ? [fromState, `annotation ${NICS_ANNOTATION}`] : fromConfig !== undefined ? [fromConfig, `annotation ${NICS_ANNOTATION}`] : fromEnv !== undefined ? [fromEnv, `environment variable ${NICS_ENV}`] : [undefined, null]
  const give = list === undefined ? [] : parseNicList(list, giveFrom!)
  const netDevices: NicSpec[] = []
  for (const [host, dev] of Object.entries(config?.linux?.netDevices ?? {})) {
    const inside = dev.name === undefined || dev.name === '' ? host : dev.name
    for (const name of [host, inside]) {
      if (!isValidIfname(name)) throw nicbackError('oci', 'read the OCI state', `linux.netDevices: "${name}" is not a valid interface name`)
    }
    if (give.some((g) => g.host === host)) {
      throw nicbackError('oci', 'read the OCI state', `${host} is both in ${giveFrom} (nicback moves it) and in linux.netDevices (the runtime moves it): list it in one of them`)
    }
    netDevices.push({ host, inside })
  }
  return { give, giveFrom, netDevices }
}

/** A container name, when the engine that made the container says it in an
 *  annotation (CRI runtimes, nerdctl). The OCI state itself has only the id. */
const NAME_ANNOTATIONS = ['io.kubernetes.cri.container-name', 'io.kubernetes.container.name', 'nerdctl/name', 'io.nicback.name']

export function containerName(annotations: Record<string, string> | undefined): string | undefined {
  for (const key of NAME_ANNOTATIONS) {
    const value = annotations?.[key]
    if (value) return value
  }
  return undefined
}

/** The stage from --stage or NICBACK_HOOK_STAGE. */
export function parseStage(value: string | undefined): Stage {
  if (value === undefined || value === '') {
    throw nicbackError('oci', 'read the OCI state', `no stage: give --stage ${STAGES.join('|')} (runtime-spec hooks are not told their stage), or set NICBACK_HOOK_STAGE`)
  }
  const stage = STAGES.find((s) => s.toLowerCase() === value.toLowerCase())
  if (stage === undefined) throw nicbackError('oci', 'read the OCI state', `unknown stage "${value}": nicback acts on ${STAGES.join(', ')}`)
  return stage
}

/** A bind mount of this network namespace (`net:[INODE]`), from mountinfo:
 *  Docker's libnetwork mounts the container's netns under /run/docker/netns
 *  in a hook that runs before nicback's (prestart), `ip netns` and CNI under
 *  /run/netns. That file outlives the container's processes, so the NIC can
 *  be found there again at poststop. Null when there is none. */
export function netnsMount(ns: string, mountinfo: string): string | null {
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ')
    const sep = f.indexOf('-')
    if (f[3] === ns && sep > 0 && f[sep + 1] === 'nsfs') {
      return f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
    }
  }
  return null
}
