// What udevd's database says of a network device, /run/udev/data/n<ifindex>:
//  - whether udevd is done with it. A NIC handed back by the kernel is a new
//    device to udevd: its `add` event names it and gives it altnames, and a
//    rename of ours in the middle of that loses a race (a VF renamed to the
//    altname udevd has just given it: EEXIST). udevd writes the entry when
//    its rules are done, before RUN programs start: no entry, its event is
//    still running;
//  - when it came back: USEC_INITIALIZED, the CLOCK_MONOTONIC microsecond
//    at which udev first handled the device ("I:<usec>" in the entry, and in
//    a udev event's environment). node's process.hrtime.bigint() reads the
//    same clock. Used for the return-to-name histogram of `nicback metrics`:
//    never on the path of an event that needs nothing.
// The database describes the devices of the init network namespace only: an
// ifindex of another namespace (`ip netns exec`, the test tiers) would name
// some other device there.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { busDeviceIndexes } from './links.js'

export const UDEV_DB = '/run/udev/data'

/** Now, on CLOCK_MONOTONIC, in microseconds. */
export function monotonicUsec(): bigint {
  return process.hrtime.bigint() / 1000n
}

/** Pure: a USEC_INITIALIZED value, or null unless it is 1-20 digits, not 0
 *  and not later than `now` (a value from the future is not udev's). */
export function parseUsec(raw: string | undefined, now: bigint): bigint | null {
  if (raw === undefined || !/^\d{1,20}$/.test(raw)) return null
  const usec = BigInt(raw)
  return usec > 0n && usec <= now ? usec : null
}

/** The return time of the device of a udev event, from its environment. */
export function eventUsec(env: NodeJS.ProcessEnv): bigint | null {
  return parseUsec(env.USEC_INITIALIZED, monotonicUsec())
}

let dbIsOurs: boolean | undefined

/** udev's database describes the devices of the init network namespace
 *  only: an ifindex of another namespace (`ip netns exec`, the test tiers)
 *  would name some other device there. */
function dbDescribesOurNetns(): boolean {
  if (dbIsOurs === undefined) {
    try {
      const a = statSync('/proc/self/ns/net')
      const b = statSync('/proc/1/ns/net')
      dbIsOurs = a.ino === b.ino && a.dev === b.dev
    } catch {
      dbIsOurs = false
    }
  }
  return dbIsOurs
}

/** Pure: the I: line of a udev database file. */
export function dbUsec(text: string, now: bigint): bigint | null {
  const m = /^I:(\d{1,20})$/m.exec(text)
  return m ? parseUsec(m[1], now) : null
}

/** The return time of device `ifindex` from udev's database, or null (no
 *  entry, not the init netns, not a valid value). */
export function initializedUsec(ifindex: number, dir = UDEV_DB, now = monotonicUsec()): bigint | null {
  if (!Number.isSafeInteger(ifindex) || ifindex <= 0) return null
  if (dir === UDEV_DB && !dbDescribesOurNetns()) return null
  let text: string
  try {
    text = readFileSync(`${dir}/n${ifindex}`, { encoding: 'utf8', flag: 'r' })
  } catch {
    return null
  }
  return dbUsec(text.slice(0, 65536), now)
}

/** Pure: the E: lines of a udev database file, as properties. */
export function dbProperties(text: string): Map<string, string> {
  const props = new Map<string, string>()
  for (const m of text.matchAll(/^E:([A-Z0-9_]{1,64})=(.*)$/gm)) props.set(m[1]!, m[2]!)
  return props
}

/** The properties udev recorded for device `ifindex` (its rules' and
 *  builtins' results), or null (no entry, not the init netns). */
export function udevProperties(ifindex: number, dir = UDEV_DB): Map<string, string> | null {
  if (!Number.isSafeInteger(ifindex) || ifindex <= 0) return null
  if (dir === UDEV_DB && !dbDescribesOurNetns()) return null
  try {
    return dbProperties(readFileSync(`${dir}/n${ifindex}`, 'utf8').slice(0, 65536))
  } catch {
    return null
  }
}

/** udevd runs and this process is in the netns it serves. */
export function udevdServesUs(): boolean {
  return existsSync('/run/udev/control') && dbDescribesOurNetns()
}

export function udevDone(ifindex: number): boolean {
  return existsSync(`${UDEV_DB}/n${ifindex}`)
}

/** The devices on a bus (facts/links.ts busDeviceIndexes) whose udev event
 *  is still running: NICs udevd is naming, a storm's VFs coming back. */
export function nicsWithUdev(): number[] {
  if (!udevdServesUs()) return []
  return busDeviceIndexes().filter((i) => !udevDone(i))
}

/** Of these devices, those whose udev event is still running. */
export function stillWithUdev(ifindexes: Iterable<number>): number[] {
  if (!udevdServesUs()) return []
  return [...new Set(ifindexes)].filter((i) => !udevDone(i))
}
