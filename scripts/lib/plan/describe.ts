// Where a NIC went, in words for people: status, logs and errors say it the same way.
import { printable } from '../facts/names.js'
import type { Away } from '../types.js'

/** Docker's 64-hex ids as `docker ps` shows them (12); other ids as they are. */
export function shortId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : printable(id)
}

/** Where a NIC went, for people: "left as ens3 via hook at T to c1 (named eth0 there)". */
export function describeAway(a: Away): string {
  const c = a.container
  const where = c?.name ?? (c?.id === undefined ? undefined : shortId(c.id)) ?? c?.netns ?? (c?.pid ? `pid ${c.pid}` : undefined)
  return `left as ${a.leftAs} via ${a.via} at ${a.since}${where ? ` to ${printable(where)}` : ''}${a.insideName ? ` (named ${a.insideName} there)` : ''}`
}
