// Finds a container's network namespace: the PID of its init process from the
// engine's own `inspect` (Docker or podman, as JSON), and whether it shares
// the host's network namespace (`--network host`), which nicback compares by
// inode rather than trusting the engine's NetworkMode string.
import { existsSync, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { isCommandFailure, run, which } from '../system/exec.js'
import { nicbackError } from '../system/errors.js'

export type Engine = 'docker' | 'podman'
export const ENGINES: readonly Engine[] = ['docker', 'podman']

export interface ContainerInfo {
  engine: Engine | null
  id: string | null
  name: string | null
  /** PID of the container's init process in nicback's PID namespace; 0 when not running. */
  pid: number
  running: boolean
  status: string | null
  /** HostConfig.NetworkMode as the engine reports it ("host", "none", "bridge"...). */
  networkMode: string | null
}

interface InspectState {
  Pid?: unknown
  Running?: unknown
  Status?: unknown
}

interface InspectObject {
  Id?: unknown
  Name?: unknown
  State?: InspectState
  HostConfig?: { NetworkMode?: unknown }
}

const str = (x: unknown): string | null => (typeof x === 'string' && x !== '' ? x : null)

/** Pure: one container out of `docker inspect` / `podman inspect` output.
 *  Accepts the usual array of objects, one object, or a bare State object
 *  (`inspect --format '{{json .State}}'`), for which `ref` stands in for the
 *  name. Docker names start with "/", podman names do not. */
export function parseInspect(text: string, engine: Engine | null, ref: string): ContainerInfo {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw nicbackError('container', 'inspect a container', `cannot read ${engine ?? 'the engine'}'s inspect output for "${ref}": ${(err as Error).message}`)
  }
  if (Array.isArray(data)) {
    if (data.length !== 1) throw nicbackError('container', 'inspect a container', `${engine ?? 'the engine'} returned ${data.length} objects for "${ref}", expected one container`)
    data = data[0]
  }
  if (typeof data !== 'object' || data === null) throw nicbackError('container', 'inspect a container', `${engine ?? 'the engine'}'s inspect output for "${ref}" is not an object`)
  const obj = data as InspectObject & InspectState
  const bare = obj.State === undefined && 'Pid' in obj
  const state: InspectState | undefined = bare ? obj : obj.State
  if (state === undefined || typeof state !== 'object') throw nicbackError('container', 'inspect a container', `${engine ?? 'the engine'}'s inspect output for "${ref}" has no State: is it a container?`)
  const pid = typeof state.Pid === 'number' && Number.isSafeInteger(state.Pid) && state.Pid > 0 ? state.Pid : 0
  const name = bare ? ref : (str(obj.Name)?.replace(/^\//, '') ?? null)
  return {
    engine,
    id: bare ? null : str(obj.Id),
    name,
    pid,
    running: state.Running === true && pid > 0,
    status: str(state.Status),
    networkMode: bare ? null : str(obj.HostConfig?.NetworkMode),
  }
}

/** An engine's binary: $PATH first (an admin's shell), then the usual
 *  places (hooks and udev run with a minimal PATH). Null: not installed. */
export function engineBinary(engine: Engine, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue
    const p = join(dir, engine)
    try {
      if (statSync(p).isFile()) return p
    } catch {
      // not here
    }
  }
  const p = which(engine)
  return p !== engine && existsSync(p) ? p : null
}

/** The engine said it has no such container (as opposed to: cannot tell). */
export function isNoSuchContainer(stderr: string): boolean {
  return /no such (container|object)|no container with name or id/i.test(stderr)
}

/** Looks `ref` (a name or an id, a unique id prefix too) up with Docker, then
 *  podman. Throws a NicbackError ('container', or 'container_not_found' when every
 *  engine installed has no such container) saying what each engine answered. */
export function inspectContainer(ref: string, engines: readonly Engine[] = ENGINES): ContainerInfo {
  const answers: string[] = []
  let asked = 0
  let noSuch = 0
  for (const engine of engines) {
    const bin = engineBinary(engine)
    if (bin === null) {
      answers.push(`${engine}: not installed`)
      continue
    }
    let out: string
    asked++
    try {
      out = run(bin, ['container', 'inspect', ref])
    } catch (err) {
      const stderr = isCommandFailure(err) ? err.stderr : (err as Error).message
      const none = isNoSuchContainer(stderr)
      if (none) noSuch++
      answers.push(`${engine}: ${none ? 'no such container' : stderr.trim().split('\n')[0]}`)
      continue
    }
    return parseInspect(out, engine, ref)
  }
  // container_not_found: every engine installed has no such container.
  throw nicbackError(asked > 0 && noSuch === asked ? 'container_not_found' : 'container', 'inspect a container', `no container "${ref}" (${answers.join('; ')})`)
}
