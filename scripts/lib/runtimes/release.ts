// `nicback release`: NICs given to a container brought back the clean way
// (moments/return.ts nicsComeBack), by recorded name, each from the netns it
// was recorded going to, or all of a container's together (target.ts
// containerNicsNow, shared with the poststop hook).
import { isMoveError } from '../apply/transit.js'
import { nicsComeBack, type ComeBackResult } from '../moments/return.js'
import { loadRegistry } from '../state/registry.js'
import { isNicbackError } from '../system/errors.js'
import type { Netns } from '../system/netns.js'
import type { Away } from '../types.js'
import { inspectContainer, type ContainerInfo } from './engine.js'
import { containerNicsNow, openLocation } from './target.js'

/** Pure: whether a NIC was recorded as given to this container (`ref` as
 *  the user typed it, `info` as the engine knows it, when it still does). */
export function givenTo(c: Away['container'], ref: string, info: ContainerInfo | null): boolean {
  if (c === undefined) return false
  if (info?.id && c.id === info.id) return true
  if (info?.name && c.name === info.name) return true
  return c.name === ref || c.id === ref || (ref.length >= 4 && /^[0-9a-f]+$/.test(ref) && c.id?.startsWith(ref) === true)
}

/** One NIC's outcome, for people and for --json. */
export interface Released {
  name: string
  ok: boolean
  /** pulled: taken out of a live netns; returned: handed back by the kernel; home: nothing to do. */
  how: 'pulled' | 'returned' | 'home' | 'failed'
  /** Where it was taken out of (pulled). */
  from?: string
  error?: string
}

function outcomes(names: string[], r: ComeBackResult, from: Netns | null): Released[] {
  return names.map((name) => {
    const failure = r.failures.find((f) => f.name === name)
    if (failure) return { name, ok: false, how: 'failed', error: failure.error }
    const nic = r.report?.nics.find((n) => n.name === name)
    const ok = nic?.home ?? false
    const how = r.pulled.includes(name) ? 'pulled' : r.returned.includes(name) ? 'returned' : 'home'
    if (!ok) return { name, ok, how: 'failed', error: nic?.reason ?? 'not home' }
    return how === 'pulled' && from !== null ? { name, ok, how, from: from.where } : { name, ok, how }
  })
}

export type ReleaseResult =
  /** Names that are not recorded: nothing was done. */
  | { unrecorded: string[] }
  /** --from a container nothing is recorded as away in (`warn`: the engine
   *  could not say what it is). */
  | { nothing: string; warn: boolean }
  | { results: Released[]; steps: string[] }

/** Brings back the recorded NICs `names`, each from the netns it was
 *  recorded going to, or (`from`) every NIC given to that container
 *  together. */
export async function release(a: { names: string[]; from: string | undefined; timeoutMs: number }): Promise<ReleaseResult> {
  let names = a.names
  let from: Netns | null = null
  const entries = loadRegistry().nics
  // A name that is not recorded is said once, as such, before anything is
  // done: not also as a NIC that "is NOT home".
  const unrecorded = names.filter((n) => !entries.some((e) => e.name === n))
  if (unrecorded.length > 0) return { unrecorded }
  try {
    if (a.from !== undefined) {
      let info: ContainerInfo | null = null
      let why = ''
      try {
        info = inspectContainer(a.from)
      } catch (err) {
        if (!isNicbackError(err, 'container', 'container_not_found')) throw err
        why = err.message
      }
      const running = info?.running ? { pid: info.pid, container: { id: info.id ?? undefined, name: info.name ?? undefined } } : {}
      ;({ names, from } = containerNicsNow(entries, (c) => givenTo(c, a.from!, info), running))
      if (names.length === 0) {
        // Idempotent, like restore: a NIC given to a container that is gone
        // may already be home (udev's rule restored it).
        const about = why ? ` (${why})` : info ? ` (${info.engine} ${info.name ?? info.id}, ${info.status ?? 'no status'})` : ''
        return { nothing: `nothing to release: no recorded NIC is away in container "${a.from}"${about}; see "nicback status"`, warn: why !== '' }
      }
    }
    const results: Released[] = []
    const steps: string[] = []
    // NICs of one container come back together; by name, each from its own netns.
    const groups = a.from !== undefined ? [names] : names.map((n) => [n])
    for (const group of groups) {
      if (a.from === undefined) {
        // By name: the netns each was recorded going to, if it is alive.
        from?.close()
        from = null
        const entry = entries.find((e) => e.name === group[0])
        try {
          from = entry?.away ? openLocation(entry) : null
        } catch (err) {
          // A recorded PID or file that is not the container's netns any more.
          if (!isMoveError(err)) throw err
          results.push({ name: group[0]!, ok: false, how: 'failed', error: err.message })
          continue
        }
      }
      const r = await nicsComeBack(group, { from, timeoutMs: a.timeoutMs })
      results.push(...outcomes(group, r, from))
      steps.push(...r.steps)
    }
    return { results, steps }
  } finally {
    from?.close()
  }
}
