// Network namespaces by handle. A container's netns is opened once and held
// open (/proc/<nicback>/fd/N) for a whole operation, so every step addresses
// the same namespace even if the container's PID dies and is reused, and
// nothing is linked under /run/netns. Commands run inside with
// `nsenter --net=<handle> ip ...`: fine for netlink, but sysfs still shows
// nicback's own netns there, so nothing here reads sysfs by name.
//
// A scratch netns is one only nicback can reach (created, then unlinked at
// once, alive while nicback holds it): a NIC taken out of a container passes
// through it, where no container can rename or swap it, before it reaches
// the host. If nicback dies holding it, the kernel hands the NIC back to the
// host (the udev path then restores it).
import { closeSync, constants, existsSync, openSync, statSync, statfsSync } from 'node:fs'
import { run, runBytes, which } from './exec.js'
import { nicbackError } from './errors.js'

/** statfs(2) f_type of the nsfs filesystem: what a namespace file is on. */
export const NSFS_MAGIC = 0x6e736673

/** Whether `path` is a namespace file (/proc/PID/ns/net, a bind mount of one). */
export function isNetnsFile(path: string): boolean {
  try {
    return Number(statfsSync(path).type) === NSFS_MAGIC
  } catch {
    return false
  }
}

/** Identity of a network namespace file (nsfs inode and device). */
export function netnsId(path: string): string {
  const st = statSync(path)
  return `${st.dev}:${st.ino}`
}

/** The nsfs inode of a network namespace file: the number in `net:[N]`. */
export function netnsInode(path: string): number {
  return statSync(path).ino
}

/** Whether the network namespace at `path` is the one nicback runs in. */
export function isOwnNetns(path: string): boolean {
  return netnsId(path) === netnsId('/proc/self/ns/net')
}

export interface Netns {
  /** The namespace as every child process can open it while we hold it. */
  readonly path: string
  /** For people: "container c1", "pid 1234", "netns /run/netns/x". */
  readonly where: string
  close(): void
}

/** Opens (and so pins) a network namespace file. */
export function openNetns(path: string, where: string): Netns {
  if (!existsSync(path)) {
    const why = path.startsWith('/proc/') ? 'no such process' : 'no such file'
    throw nicbackError('netns', 'open a network namespace', `cannot open the network namespace of ${where} (${path}): ${why}`)
  }
  let fd: number
  try {
    // never blocks: a FIFO put where a namespace file was is not waited on
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (err) {
    throw nicbackError('netns', 'open a network namespace', `cannot open the network namespace of ${where} (${path}): ${(err as Error).message}`)
  }
  const held = `/proc/${process.pid}/fd/${fd}`
  if (!isNetnsFile(held)) {
    closeSync(fd)
    throw nicbackError('not_netns', 'open a network namespace', `${path} is not a namespace file (a netns name under /run/netns, /proc/PID/ns/net or a bind mount of one)`)
  }
  let open = true
  return {
    path: held,
    where,
    close() {
      if (open) closeSync(fd)
      open = false
    },
  }
}

/** The host's (nicback's own) network namespace, as a path for `netns`. */
export function hostNetnsPath(): string {
  return `/proc/${process.pid}/ns/net`
}

let scratchCount = 0

/** A new, empty network namespace that only this process can reach. */
export function scratchNetns(): Netns {
  const name = `nicback-${process.pid}-${++scratchCount}`
  run('ip', ['netns', 'add', name])
  try {
    return openNetns(`/run/netns/${name}`, "nicback's scratch namespace")
  } finally {
    // Unlinked at once: our descriptor keeps it alive, nobody else finds it.
    try {
      run('ip', ['netns', 'delete', name])
    } catch {
      // still mounted: harmless, and `ip netns` shows it by its nicback- name
    }
  }
}

/** `ip ARGS` inside the namespace, stdout as bytes. */
export function ipInBytes(ns: Netns, args: string[]): Buffer {
  return runBytes('nsenter', [`--net=${ns.path}`, '--', which('ip'), ...args])
}
