// The `ip link` command of each typed step: the one place nicback says how a
// link is changed (renamed, moved, its MAC, MTU, altnames, admin state).
import { isValidIfname } from '../facts/names.js'
import type { Step } from '../plan/planner.js'
import { BATCH_SAFE } from './kernel.js'

/** How ip is told which device: its name, or "if<ifindex>" for a name that
 *  is not a plain word (not UTF-8, or bytes `ip -batch` would split): ip
 *  resolves "if<N>" to ifindex N when no device has that name (the executor
 *  checks that first). */
export function address(name: string, ifindex: number): string {
  return isValidIfname(name) && BATCH_SAFE.test(name) ? name : `if${ifindex}`
}

/** The name the step addresses the device by. */
export function devName(s: Step): string {
  return s.op === 'rename' ? s.from : s.dev
}

export function ipArgs(s: Step): string[] {
  const dev = address(devName(s), s.ifindex)
  switch (s.op) {
    case 'altname-del':
      return ['link', 'property', 'del', 'dev', dev, 'altname', s.altname]
    case 'altname-add':
      return ['link', 'property', 'add', 'dev', dev, 'altname', s.altname]
    case 'down':
      return ['link', 'set', 'dev', dev, 'down']
    case 'up':
      return ['link', 'set', 'dev', dev, 'up']
    case 'rename':
      return ['link', 'set', 'dev', dev, 'name', s.to]
    case 'mtu':
      return ['link', 'set', 'dev', dev, 'mtu', String(s.mtu)]
    case 'mac':
      return ['link', 'set', 'dev', dev, 'address', s.mac]
    case 'netns':
      // One request: the kernel moves it and names it there together.
      return ['link', 'set', 'dev', dev, 'netns', s.to, ...(s.name !== undefined ? ['name', s.name] : [])]
  }
}
