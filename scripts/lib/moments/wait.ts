// Waiting for the kernel to hand NICs back. When a container's netns dies the
// kernel returns its physical NICs asynchronously (cleanup_net runs on a
// workqueue, later still if something pins the netns), so whoever tears a
// container down (`release` when the container is gone, an OCI poststop hook)
// must wait for them. The wait is driven by link events (`ip -o monitor
// link`): it ends as soon as the last NIC is back; a slow poll is kept only as
// a backstop for an event missed while the monitor was starting.
import { spawn } from 'node:child_process'
import { which } from '../system/exec.js'
import { sameNic } from '../facts/identity.js'
import { hostKernel, type Kernel } from '../apply/kernel.js'
import { loadRegistry } from '../state/registry.js'
import type { Entry, Link } from '../types.js'

/** Backstop poll interval; NICBACK_WAIT_POLL_MS overrides it (tests set it
 *  high to prove that the wait ends on the event, not on the poll). */
export function pollInterval(env = process.env.NICBACK_WAIT_POLL_MS): number {
  const n = Number(env)
  return Number.isFinite(n) && n > 0 ? n : 2000
}

/** Pure: which of `names` are present among `links`. A recorded name stands
 *  for its NIC, recognised by identity whatever it is called now (devN, the
 *  name it had inside...); a name nicback does not know stands for itself. */
export function presentNics(names: readonly string[], entries: readonly Entry[], links: readonly Link[]): string[] {
  return names.filter((n) => {
    const e = entries.find((x) => x.name === n)
    return e !== undefined ? links.some((l) => sameNic(e, l)) : links.some((l) => l.name === n)
  })
}

/** Waits until every NIC in `names` (recorded host names) is back in this
 *  network namespace, at most `timeoutMs`. Never throws. */
export function waitForReturn(names: string[], timeoutMs: number, kernel: Kernel = hostKernel()): Promise<{ back: string[]; missing: string[] }> {
  const entries = loadRegistry().nics
  let back: string[] = []
  const check = (): boolean => {
    try {
      back = presentNics(names, entries, kernel.links())
    } catch {
      // A device renamed between `ip link` and the sysfs read: the rename has
      // an event of its own, the next check sees it settled.
    }
    return back.length === names.length
  }
  return new Promise((resolve) => {
    let over = false
    const monitor = spawn(which('ip'), ['-oneline', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] })
    const finish = () => {
      if (over) return
      over = true
      clearInterval(poll)
      clearTimeout(timer)
      monitor.stdout?.removeAllListeners('data')
      monitor.kill()
      resolve({ back: [...back], missing: names.filter((n) => !back.includes(n)) })
    }
    let queued = false
    const onEvent = () => {
      // One check for a burst of events (a return is add + rename + up...).
      if (queued || over) return
      queued = true
      setImmediate(() => {
        queued = false
        if (!over && check()) finish()
      })
    }
    monitor.on('error', () => undefined) // no `ip monitor`: the poll still works
    monitor.on('spawn', onEvent)
    monitor.stdout?.on('data', onEvent)
    const poll = setInterval(onEvent, pollInterval())
    const timer = setTimeout(
      () => {
        check()
        finish()
      },
      Math.max(0, timeoutMs),
    )
    if (check()) finish()
  })
}
