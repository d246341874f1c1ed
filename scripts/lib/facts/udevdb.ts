// Whether udevd is done with a network device. A NIC handed back by the
// kernel is a new device to udevd: its `add` event names it and gives it
// altnames, and a rename of ours in the middle of that loses a race (a VF
// renamed to the altname udevd has just given it: EEXIST). udevd writes the
// device's database entry, /run/udev/data/n<ifindex>, when its rules are
// done, before RUN programs start: no entry, its event is still running.
import { existsSync, statSync } from 'node:fs'

let watching: boolean | undefined

/** udevd runs and this process is in the netns it serves (the initial one):
 *  only then do database entries say anything about our devices. */
export function udevdServesUs(): boolean {
  if (watching === undefined) {
    try {
      watching = existsSync('/run/udev/control') && statSync('/proc/self/ns/net').ino === statSync('/proc/1/ns/net').ino
    } catch {
      watching = false
    }
  }
  return watching
}

export function udevDone(ifindex: number): boolean {
  return existsSync(`/run/udev/data/n${ifindex}`)
}

/** Of these devices, those whose udev event is still running. */
export function stillWithUdev(ifindexes: Iterable<number>): number[] {
  if (!udevdServesUs()) return []
  return [...new Set(ifindexes)].filter((i) => !udevDone(i))
}
