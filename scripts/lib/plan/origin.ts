// Day one: a NIC that comes back with no record (it left before nicback was
// installed, while the registry was lost, or before the agent's pod ran).
// Its host name is found from sources a container cannot forge, in order:
//   1. udev's naming policy for its bus position (facts/policy.ts): the
//      name the host gives that port;
//   2. sriov-cni's cache of the VF's host name (facts/sriov-cache.ts), root's
//      alone on the host: its newest file for the VF (the last ADD);
//   3. nothing: the NIC stays as it is, and status says why and what to run.
// The CNI host-device plugin's ifalias is written inside the container's
// reach: shown as a hint, never acted on. A found name is used only if no
// other device holds it and no recorded NIC has it; once the NIC is home
// under it, it is recorded like any other (with where it came from). Pure.
import { identityKey, matchNics, sameNic } from '../facts/identity.js'
import { isFallbackName, isValidIfname } from '../facts/names.js'
import type { NameSources } from '../facts/name-sources.js'
import type { Entry, FoundBy, Identity, Link, UnnamedNic } from '../types.js'
import { entryFromLink } from './record.js'
import { HAND_OVER_NAME } from './repair.js'

export type Found = { name: string; foundBy: FoundBy; how: string } | { name: null; why: string; fix: string }

/** A device nicback has no record of, and the name found for it. */
export interface Adoption {
  link: Link
  found: Found
  /** The record it gets once home under the found name; null: no name. */
  entry: Entry | null
}

/** Whether an unrecorded device on a bus came back from another network
 *  namespace, as far as the kernel's facts tell: it carries a kernel
 *  fallback name (devN), or nicback saw it away when it was installed. A
 *  device under any other name may be one an admin named: it is left alone. */
export function looksReturned(link: Identity & Pick<Link, 'name'>, unnamed: readonly UnnamedNic[]): boolean {
  return link.bus !== null && (isFallbackName(link.name) || unnamed.some((u) => sameNic(u, link)))
}

/** What an admin runs when nicback has no name for `link`. */
export function manualFix(link: Pick<Link, 'name'>): string {
  return `if you know its host name, give it and record it: "ip link set dev ${link.name} name NAME && nicback record NAME"`
}

/** The host name for `link`, or why there is none (`entries`: every NIC
 *  with a name, recorded or found in this run). */
export function findHostName(link: Link, src: NameSources, links: readonly Link[], entries: readonly Entry[]): Found {
  const fix = manualFix(link)
  let c: { name: string; foundBy: FoundBy; how: string } | null = null
  if (src.policy !== null) c = { name: src.policy.name, foundBy: 'policy', how: `udev's naming policy (${src.policy.how})` }
  else if (src.sriov.length > 0) {
    // The newest file is the last ADD, the pod it comes back from: older ones
    // are pods that died without a DEL before it was given out again.
    const newest = [...src.sriov].sort((a, b) => b.mtimeMs - a.mtimeMs || a.file.localeCompare(b.file))[0]!
    const tied = src.sriov.filter((s) => s.mtimeMs === newest.mtimeMs && s.name !== newest.name)
    if (tied.length > 0) return { name: null, why: `sriov-cni's cache files written at the same moment name it "${newest.name}" (${newest.file}) and "${tied[0]!.name}" (${tied[0]!.file}): nicback does not choose between them`, fix }
    if (isFallbackName(newest.name) || HAND_OVER_NAME.test(newest.name))
      return { name: null, why: `sriov-cni's newest cache file (${newest.file}) names it "${newest.name}", a name the kernel or a mover gives a NIC that is not home: not a host name`, fix }
    c = { name: newest.name, foundBy: 'sriov-cni', how: `sriov-cni's cache (${newest.file})` }
  }
  if (c === null) {
    return {
      name: null,
      why: "udev's naming policy gives it no name (no .link file gives one: net.ifnames=0, or an empty NamePolicy= and no Name=) and no sriov-cni cache file names it",
      fix,
    }
  }
  if (!isValidIfname(c.name)) return { name: null, why: `${c.how} names it "${c.name}", which is not a valid interface name`, fix }
  const other = links.find((l) => l.ifindex !== link.ifindex && (l.name === c.name || l.altnames.includes(c.name)))
  if (other !== undefined) {
    return { name: null, why: `${c.how} names it ${c.name}, but ${c.name} is ${other.name === c.name ? 'the name' : 'an altname'} of ${other.name} (ifindex ${other.ifindex}) on the host: nicback never takes a name from another device`, fix }
  }
  const recorded = entries.find((e) => e.name === c.name && !sameNic(e, link))
  if (recorded !== undefined) {
    return { name: null, why: `${c.how} names it ${c.name}, the recorded name of another NIC (${identityKey(recorded)}): nicback never gives a recorded NIC's name to another`, fix }
  }
  return c
}

/** What the ifalias of an unrecorded device says, for status: the CNI
 *  host-device plugin writes the host name there, but anything inside the
 *  container could have. Null when it says nothing name-like. */
export function ifaliasHint(link: Link, links: readonly Link[]): string | null {
  const a = link.ifalias
  if (a === null || a === link.name || !isValidIfname(a)) return null
  const holder = links.find((l) => l.ifindex !== link.ifindex && (l.name === a || l.altnames.includes(a)))
  if (holder !== undefined) return `its ifalias says "${a}", the ${holder.name === a ? 'name' : 'altname'} of ${holder.name} on the host: ignored (a container can set an ifalias)`
  return `its ifalias says "${a}" (the CNI host-device plugin keeps the host name there, but a container can set it: a hint, never acted on)`
}

/** The devices nicback has no record of among `links` that `pick` chooses,
 *  each with the name found for it. One found name goes to one device: a
 *  second device it would name is refused as a recorded NIC's. */
export function adoptions(links: readonly Link[], entries: readonly Entry[], sourcesOf: (l: Link) => NameSources, pick: (l: Link) => boolean, now: string): Adoption[] {
  const { found } = matchNics(entries, links)
  const recorded = new Set(found.values())
  const named: Entry[] = [...entries]
  const out: Adoption[] = []
  for (const link of links) {
    if (link.bus === null || recorded.has(link) || !pick(link)) continue
    const f = findHostName(link, sourcesOf(link), links, named)
    const entry = f.name === null ? null : { ...entryFromLink(link, now), name: f.name, foundBy: f.foundBy }
    if (entry !== null) named.push(entry)
    out.push({ link, found: f, entry })
  }
  return out
}
