// Where a NIC went, in words for people: status, logs and errors say it the
// same way. The words hold what containers chose, exactly: they are escaped
// where they are written (system/printable.ts).
import type { Keepers } from '../facts/keepers.js'
import type { Away, Step } from '../types.js'

/** Docker's 64-hex ids as `docker ps` shows them (12); other ids as they are. */
export function shortId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id
}

/** Where a NIC went, for people: "left as ens3 via hook at T to c1 (named eth0 there)". */
export function describeAway(a: Away): string {
  const c = a.container
  const where = c?.name ?? (c?.id === undefined ? undefined : shortId(c.id)) ?? c?.netns ?? (c?.pid ? `pid ${c.pid}` : undefined)
  return `left as ${a.leftAs} via ${a.via} at ${a.since}${where ? ` to ${where}` : ''}${a.insideName ? ` (named ${a.insideName} there)` : ''}`
}

/** What keeps an away NIC's network namespace alive, for people: "kept alive
 *  by: pid 1234 sleep (container 0123456789ab); bind mount /run/netns/x". */
export function describeKeepers(k: Keepers): string {
  if (k.inode === null) return k.reason ?? 'cannot find its network namespace'
  const held = [
    ...k.processes.map((p) => {
      const ids = [p.container === null ? null : `container ${p.container}`, p.pod === null ? null : `pod ${p.pod}`].filter((x) => x !== null)
      return `pid ${p.pid} ${p.command}${ids.length > 0 ? ` (${ids.join(', ')})` : ''}`
    }),
    ...(k.total > k.processes.length ? [`${k.total - k.processes.length} more process${k.total - k.processes.length === 1 ? '' : 'es'}`] : []),
    ...k.mounts.map((m) => `bind mount ${m}`),
  ]
  const unseen = k.unreadable > 0 ? `; ${k.unreadable} process${k.unreadable === 1 ? '' : 'es'} could not be looked at (permission denied: not root, or without CAP_SYS_PTRACE)` : ''
  const limit = k.limit === undefined ? '' : `; ${k.limit}`
  // Something to stop is named: processes it may not see are left to --json.
  if (held.length > 0) return `kept alive by: ${held.join('; ')}${limit}`
  if (unseen !== '' || limit !== '') return `no process or bind mount nicback can see holds its network namespace (net:[${k.inode}])${unseen}${limit}`
  return (
    `nothing holds its network namespace (net:[${k.inode}]: no process in it, no bind mount of it): it should be on its way back; run "nicback restore". ` +
    `If it stays away, a process may hold that namespace open: ls -l /proc/*/fd | grep 'net:\\[${k.inode}\\]'`
  )
}

/** The host's netns, for people (a step's `where`). */
export const HOST = 'the host'

/** A step, for people: logs, reports and undo errors say it this way. */
export function describeStep(s: Step): string {
  switch (s.op) {
    case 'altname-del':
      return `drop altname "${s.altname}" of "${s.dev}"`
    case 'altname-add':
      return `give "${s.dev}" the altname "${s.altname}"`
    case 'down':
      return `set "${s.dev}" down to rename it`
    case 'rename':
      return `rename "${s.from}" to "${s.to}"${s.temporary ? ' (temporary, to break a cycle)' : ''}`
    case 'mtu':
      return `set MTU of "${s.dev}" to ${s.mtu} (was ${s.was})`
    case 'mac':
      return `set MAC of "${s.dev}" back to ${s.mac} (was ${s.was})`
    case 'up':
      return `set "${s.dev}" up`
    case 'netns':
      // Out of a container: into the scratch netns, then from there home.
      if (s.from !== undefined) return s.where === HOST ? `move it to the host as "${s.name ?? s.dev}"` : `move "${s.dev}" out of ${s.from}`
      return `move "${s.dev}" to ${s.where}${s.name !== undefined && s.name !== s.dev ? ` as "${s.name}"` : ''}`
  }
}
