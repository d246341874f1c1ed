// Moving a NIC between the host and a container's network namespace, the
// two halves of the seed's section 2.2, done so that a container watching
// link events cannot steer them:
//   moveIn   host -> container, renamed as it arrives (one request), then up;
//   pullOut  container -> a scratch netns only nicback can reach, where the
//            device that arrived is checked to be the NIC (bus, permanent
//            MAC) before it goes on to the host under its host name.
// Inside a container's netns a device can only be named, and the container
// can rename its own devices between two steps: the only steps that name a
// device there are the move into the scratch netns (whatever arrives is
// checked, and anything else goes straight back) and setting the NIC up
// (which the container could do itself). Every step goes through a Journal.
import { macOnly, sameNic } from '../facts/identity.js'
import { displayName, readLinksIn, sysfsNames } from '../facts/links.js'
import { tempName } from '../facts/names.js'
import { run } from '../system/exec.js'
import { log } from '../system/log.js'
import { hostNetnsPath, ipIn, scratchNetns, type Netns } from '../system/netns.js'
import type { Away, Identity, Link } from '../types.js'
import { address } from './executor.js'
import { fault, Journal } from './journal.js'

/** A refusal (nothing was touched) or a failure (undone as far as the
 *  message says). `overridable`: --force would move it anyway. */
export class MoveError extends Error {
  constructor(
    message: string,
    readonly kind: 'refused' | 'failed',
    readonly overridable = false,
    /** The NIC it is about, when several were asked for. */
    readonly nic?: string,
  ) {
    super(message)
  }
}

/** What a NIC is known by, to find it again in another namespace. */
export type Nic = Identity & { ifindex: number | null; name: string }

/** Pure: the NIC among the devices of a namespace, by what a container
 *  cannot forge (bus, permanent MAC; a MAC-only stand-in by MAC and the
 *  ifindex it left with). Several candidates: the one with a hinted name,
 *  else none (nicback does not guess). */
export function findNic(nic: Nic & { away?: Away | null }, links: readonly Link[], hints: readonly (string | undefined)[] = [nic.away?.insideName, nic.away?.leftAs]): Link | undefined {
  if (macOnly(nic) && nic.ifindex !== null) {
    // Known by MAC alone, which the container can change or copy: the NIC
    // is the device that left, and it keeps its ifindex across the move when
    // that is free (nicsLeave records the one it got inside otherwise).
    const same = links.filter((l) => macOnly(l) && l.ifindex === nic.ifindex)
    return same.length === 1 ? same[0] : undefined
  }
  const c = links.filter((l) => sameNic(nic, l))
  if (c.length <= 1) return c[0]
  for (const h of [...hints, nic.name]) {
    const byName = c.filter((l) => l.name === h)
    if (byName.length === 1) return byName[0]
  }
  return undefined
}

/** Moves host device `link` into `ns`, named `insideName` there, and sets it
 *  up there when `up`. Returns its ifindex inside (the kernel keeps it when
 *  it is free there). The journal's undo takes it back out (pullOut). */
export function moveIn(link: Link, ns: Netns, insideName: string, up: boolean, journal: Journal): number {
  const renamed = insideName !== link.name ? ` as "${insideName}"` : ''
  let inside: number | null = null
  const undo = () => {
    pullOut(ns, { ...link, ifindex: inside }, link.name, [insideName], new Journal())
    if (link.up) run('ip', ['link', 'set', 'dev', link.name, 'up'])
  }
  journal.do(
    `move "${link.name}" to ${ns.where}${renamed}`,
    () => {
      fault('move')
      // One request: the kernel moves it and renames it inside together.
      run('ip', ['link', 'set', 'dev', address(link.name, link.ifindex), 'netns', ns.path, ...(renamed ? ['name', insideName] : [])])
    },
    undo,
  )
  // Where it is inside: by identity; a MAC-only stand-in by the ifindex it
  // had, else (taken there) by the only device with its MAC.
  const links = readLinksIn(ns)
  const there = findNic(link, links, [insideName]) ?? findNic({ ...link, ifindex: null }, links, [insideName])
  if (there === undefined) throw new MoveError(`${link.name} is not in ${ns.where} after the move (looked for it by identity)`, 'failed')
  inside = there.ifindex
  if (up) {
    journal.do(
      `set "${insideName}" up in ${ns.where}`,
      () => {
        fault('up')
        ipIn(ns, ['link', 'set', 'dev', insideName, 'up'])
      },
      () => void ipIn(ns, ['link', 'set', 'dev', insideName, 'down']),
    )
  }
  return there.ifindex
}

/** A device the container slipped into the scratch netns goes back to it,
 *  under a temporary name if the container has taken its name meanwhile.
 *  If even that fails, it stays where it is: a virtual device dies with the
 *  scratch netns, a NIC goes to the host as the kernel hands back any NIC. */
function sendBack(scratch: Netns, ns: Netns, dev: Link): void {
  const at = address(dev.name, dev.ifindex)
  try {
    ipIn(scratch, ['link', 'set', 'dev', at, 'netns', ns.path])
  } catch {
    try {
      ipIn(scratch, ['link', 'set', 'dev', at, 'netns', ns.path, 'name', tempName(dev.ifindex, new Set())])
    } catch (err) {
      log.warn(`${dev.name} (ifindex ${dev.ifindex}), which ${ns.where} slipped in instead of the NIC, could not be sent back (${(err as Error).message.trim()}): it is left to the kernel`)
    }
  }
}

/** Takes NIC `nic` out of `ns` to the host as `hostName` (or, if that name
 *  was taken on the host meanwhile, as a temporary name the return moment
 *  then resolves): so the host never sees devN or its container-side name.
 *  `hints`: names it may have inside, to tell apart ports that share a bus
 *  identity. Returns the name it arrived under. Throws MoveError. */
export function pullOut(ns: Netns, nic: Nic, hostName: string, hints: readonly (string | undefined)[] | null, journal: Journal): string {
  const inside = readLinksIn(ns)
  const dev = findNic(nic, inside, hints ?? [])
  if (dev === undefined) throw new MoveError(`${hostName} is not in ${ns.where} (looked for it by identity)`, 'failed')
  const scratch = scratchNetns()
  try {
    try {
      journal.do(`move "${dev.name}" out of ${ns.where}`, () => {
        fault('move-out')
        ipIn(ns, ['link', 'set', 'dev', address(dev.name, dev.ifindex), 'netns', scratch.path])
      })
    } catch (err) {
      throw new MoveError(`${(err as Error).message}; ${hostName} is still in ${ns.where} as "${dev.name}"`, 'failed')
    }
    // Whatever arrived is checked here, where only nicback acts.
    const arrived = readLinksIn(scratch)
    const it = findNic({ ...nic, ifindex: macOnly(nic) ? dev.ifindex : nic.ifindex }, arrived, [])
    for (const other of arrived.filter((l) => l !== it)) sendBack(scratch, ns, other)
    if (it === undefined) {
      const what = arrived.map((l) => `${l.name} (ifindex ${l.ifindex})`).join(', ') || 'nothing'
      throw new MoveError(
        `${ns.where} renamed its devices while nicback was taking ${hostName} out: ${what} arrived instead of ${hostName}, and was sent back; nothing reached the host. Try again once the container stops racing (or stop it)`,
        'failed',
      )
    }
    if (nic.mac !== null && it.mac !== null && it.mac !== nic.mac) {
      // Its own MAC back while nothing else can touch it (a MAC-only NIC is
      // known on the host by it).
      const mac = nic.mac
      journal.do(`set the MAC of "${it.name}" back to ${mac} (was ${it.mac})`, () => void ipIn(scratch, ['link', 'set', 'dev', address(it.name, it.ifindex), 'address', mac]))
    }
    // Named here first, where nobody else acts, then moved: the host sees it
    // arrive under its host name and no other.
    let as = hostName
    const at = address(it.name, it.ifindex)
    journal.do(`move it to the host as "${hostName}"`, () => {
      ipIn(scratch, ['link', 'set', 'dev', at, 'name', hostName])
      try {
        ipIn(scratch, ['link', 'set', 'dev', hostName, 'netns', hostNetnsPath()])
      } catch {
        // Taken on the host meanwhile: arrive under a temporary name instead.
        as = tempName(it.ifindex, new Set([...sysfsNames().values()].map(displayName)))
        ipIn(scratch, ['link', 'set', 'dev', hostName, 'name', as])
        ipIn(scratch, ['link', 'set', 'dev', as, 'netns', hostNetnsPath()])
      }
    })
    return as
  } finally {
    // A NIC still in here when it closes is handed to the host by the kernel.
    scratch.close()
  }
}
