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
// (which the container could do itself). The two mirror each other, as CNI
// host-device's moveLinkIn and moveLinkOut do, and every change is a typed
// step run through a Journal on the kernel port; the MAC goes through the
// executor's setMac, the one way a MAC is set.
import { macOnly, sameNic } from '../facts/identity.js'
import { displayName } from '../facts/links.js'
import { tempName } from '../facts/names.js'
import { describeStep } from '../plan/describe.js'
import { planHomeFromScratch } from '../plan/planner.js'
import { log } from '../system/log.js'
import { hostNetnsPath, scratchNetns, type Netns } from '../system/netns.js'
import type { Away, Identity, Link, Step } from '../types.js'
import { setMac } from './executor.js'
import type { Kernel } from './kernel.js'
import { fault, Journal, stepFailed } from './journal.js'
import { isNicbackError, nicbackError, type NicbackError } from '../system/errors.js'

/** NICBACK_FAIL_AT (tests): the step fails as the kernel's refusal would. */
function injected(at: string, step: Step): void {
  const why = fault(at)
  if (why !== null) throw stepFailed(describeStep(step), why)
}

/** The error of a move between namespaces: a refusal (nothing was touched;
 *  `overridable`: --force would move it anyway), a failure (undone as far as
 *  the message says), or the NIC not in the namespace asked about (its netns
 *  died: it is on its way back). One type for all errors (system/errors.ts),
 *  told apart by code. */
export function moveError(message: string, code: 'move_refused' | 'move_failed' | 'not_there', more: { nic?: string; overridable?: boolean } = {}): NicbackError {
  return nicbackError(code, 'move', message, more)
}

/** Whether `err` is a move's refusal, failure or not-there. */
export function isMoveError(err: unknown): err is NicbackError {
  return isNicbackError(err, 'move_refused', 'move_failed', 'not_there')
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
 *  it is free there). The journal's undo takes it back out (pullOut) and
 *  sets it up on the host as it was. */
export function moveIn(link: Link, ns: Netns, insideName: string, up: boolean, journal: Journal): number {
  let inside: number | null = null
  const undo = () => {
    pullOut(ns, { ...link, ifindex: inside }, link.name, [insideName], journal.kernel, [])
    if (link.up) new Journal(journal.kernel).must([{ op: 'up', ifindex: link.ifindex, dev: link.name }])
  }
  // One request: the kernel moves it and renames it inside together.
  const move: Step = { op: 'netns', ifindex: link.ifindex, dev: link.name, to: ns.path, where: ns.where, ...(insideName !== link.name ? { name: insideName } : {}) }
  injected('move', move)
  journal.must([move], undefined, undo)
  // Where it is inside: by identity; a MAC-only stand-in by the ifindex it
  // had, else (taken there) by the only device with its MAC.
  const links = journal.kernel.linksIn(ns)
  const there = findNic(link, links, [insideName]) ?? findNic({ ...link, ifindex: null }, links, [insideName])
  if (there === undefined) throw moveError(`${link.name} is not in ${ns.where} after the move (looked for it by identity)`, 'move_failed', { nic: link.name })
  inside = there.ifindex
  if (up) {
    const up: Step = { op: 'up', ifindex: there.ifindex, dev: insideName }
    injected('up', up)
    journal.must([up], ns)
  }
  return there.ifindex
}

/** A device the container slipped into the scratch netns goes back to it,
 *  under a temporary name if the container has taken its name meanwhile.
 *  If even that fails, it stays where it is: a virtual device dies with the
 *  scratch netns, a NIC goes to the host as the kernel hands back any NIC. */
function sendBack(scratch: Netns, ns: Netns, dev: Link, journal: Journal): void {
  const back: Step = { op: 'netns', ifindex: dev.ifindex, dev: dev.name, to: ns.path, where: ns.where }
  if (journal.run([back], scratch) === null) return
  const f = journal.run([{ ...back, name: tempName(dev.ifindex, new Set()) }], scratch)
  if (f !== null) log.warn(`${dev.name} (ifindex ${dev.ifindex}), which ${ns.where} slipped in instead of the NIC, could not be sent back (${f.text}): it is left to the kernel`, { ifindex: dev.ifindex, cause: f.text })
}

/** Takes NIC `nic` out of `ns` to the host as `hostName` (or, if that name
 *  was taken on the host meanwhile, as a temporary name the return moment
 *  then resolves): so the host never sees devN or its container-side name.
 *  `hints`: names it may have inside, to tell apart ports that share a bus
 *  identity. Returns the name it arrived under, and adds what it did to
 *  `steps`. Throws a move error (not_there when no device in `ns` is the NIC:
 *  its netns died, it is on its way); what was done in the scratch netns is
 *  undone then, and the kernel hands the NIC to the host as it left. */
export function pullOut(ns: Netns, nic: Nic, hostName: string, hints: readonly (string | undefined)[] | null, kernel: Kernel, steps: string[]): string {
  const journal = new Journal(kernel)
  try {
    return pullThrough(ns, nic, hostName, hints, journal)
  } catch (err) {
    journal.rollback()
    throw err
  } finally {
    steps.push(...journal.done)
  }
}

function pullThrough(ns: Netns, nic: Nic, hostName: string, hints: readonly (string | undefined)[] | null, journal: Journal): string {
  const inside = journal.kernel.linksIn(ns)
  const dev = findNic(nic, inside, hints ?? [])
  if (dev === undefined) throw moveError(`${hostName} is not in ${ns.where} (looked for it by identity)`, 'not_there', { nic: hostName })
  const scratch = scratchNetns()
  try {
    const out: Step = { op: 'netns', ifindex: dev.ifindex, dev: dev.name, to: scratch.path, where: scratch.where, from: ns.where }
    const failed = fault('move-out') ?? journal.run([out], ns)?.text
    if (failed != null) throw moveError(`failed to ${describeStep(out)}: ${failed}; ${hostName} is still in ${ns.where} as "${dev.name}"`, 'move_failed', { nic: hostName })
    // Whatever arrived is checked here, where only nicback acts.
    const arrived = journal.kernel.linksIn(scratch)
    const it = findNic({ ...nic, ifindex: macOnly(nic) ? dev.ifindex : nic.ifindex }, arrived, [])
    for (const other of arrived.filter((l) => l !== it)) sendBack(scratch, ns, other, journal)
    if (it === undefined) {
      const what = arrived.map((l) => `${l.name} (ifindex ${l.ifindex})`).join(', ') || 'nothing'
      throw moveError(
        `${ns.where} renamed its devices while nicback was taking ${hostName} out: ${what} arrived instead of ${hostName}, and was sent back; nothing reached the host. Try again once the container stops racing (or stop it)`,
        'move_failed',
        { nic: hostName },
      )
    }
    const plan = (now: Link, as: string) => planHomeFromScratch(now, nic.mac, as, scratch.where, hostNetnsPath())
    const first = plan(it, hostName)
    if (first.mac !== null) {
      const f = setMac(journal, first.mac, scratch)
      if (f !== null) throw moveError(`failed to ${describeStep(first.mac)}: ${f.text}; it goes back to the host with the kernel`, 'move_failed', { nic: hostName })
    }
    let as = hostName
    let f = journal.run(first.home, scratch)
    if (f !== null && f.step.op === 'netns' && f.errno === 'EEXIST') {
      // Taken on the host meanwhile: arrive under a temporary name instead
      // (it is named hostName in here by now).
      as = tempName(it.ifindex, new Set([...journal.kernel.names().values()].map(displayName)))
      f = journal.run(plan({ ...it, name: hostName, mac: nic.mac ?? it.mac }, as).home, scratch)
    }
    if (f !== null) throw moveError(`failed to ${describeStep(f.step)}: ${f.text}; it goes back to the host with the kernel`, 'move_failed', { nic: hostName })
    return as
  } finally {
    // A NIC still in here when it closes is handed to the host by the kernel.
    scratch.close()
  }
}
