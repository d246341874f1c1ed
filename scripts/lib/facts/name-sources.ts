// The host's own sources of a name for a NIC nicback has no record of
// (plan/origin.ts): udev's naming policy for its bus position, and
// sriov-cni's cache. Read lazily: the cache once per use, and only when a
// device needs it.
import type { Link } from '../types.js'
import { policyName, type PolicyName } from './policy.js'
import { readSriovCache, type CachedName, type SriovCache } from './sriov-cache.js'

/** What the host's sources say of one device. */
export interface NameSources {
  policy: PolicyName | null
  sriov: readonly CachedName[]
}

/** Each device's sources; `refused` hears of every cache file not read. */
export function hostNameSources(refused: (file: string, why: string) => void = () => {}): (l: Link) => NameSources {
  let cache: SriovCache | null = null
  return (l) => {
    if (cache === null) {
      cache = readSriovCache()
      for (const r of cache.refused) refused(r.file, r.why)
    }
    return { policy: policyName(l.ifindex), sriov: l.bus === null ? [] : (cache.byBus.get(l.bus) ?? []) }
  }
}
