// How the host uses a NIC it is asked to give away: its default route and its
// addresses (the checks of plan/refusals.ts), and whether it is wireless.
import { existsSync } from 'node:fs'
import { run } from '../system/exec.js'
import { log } from '../system/log.js'
import { errorText } from '../system/errors.js'

export interface HostUse {
  defaultRoute: boolean
  addresses: string[]
}

const isLinkLocal = (a: string) => /^169\.254\./.test(a) || /^fe[89ab][0-9a-f]:/i.test(a)

/** Whether the host uses the NIC. The default route comes from the kernel
 *  (`ip route show default`, IPv4 and IPv6, multipath included), not from
 *  systeminformation's `default` flag: with no default route at all it names
 *  the first interface that has an address (seen in the VM: it called an
 *  unconfigured ens3 "default"), and it reads only the first IPv4 route.
 *  Addresses: systeminformation's (loaded here only, ~100 ms; it skips
 *  interfaces without carrier) and every one `ip address` shows; link-local
 *  ones do not count (every IPv6 interface that is up has one). */
export async function hostUse(name: string): Promise<HostUse> {
  const addresses = new Set<string>()
  try {
    const mod = await import('systeminformation')
    // A CommonJS package: its functions are on `default` once bundled.
    const si = typeof mod.networkInterfaces === 'function' ? mod : (mod as unknown as { default: typeof mod }).default
    const all = await si.networkInterfaces()
    const me = (Array.isArray(all) ? all : [all]).find((i) => i.iface === name)
    for (const a of me ? [me.ip4, me.ip6] : []) if (a && !isLinkLocal(a)) addresses.add(a)
  } catch (err) {
    log.warn(`systeminformation could not list the host's interfaces (${errorText(err)}); using ip alone`, { cause: errorText(err) })
  }
  type Route = { dev?: string; nexthops?: { dev?: string }[] }
  let defaultRoute = false
  for (const fam of ['-4', '-6']) {
    try {
      const routes = JSON.parse(run('ip', ['-json', fam, 'route', 'show', 'default']) || '[]') as Route[]
      defaultRoute ||= routes.some((r) => r.dev === name || (r.nexthops ?? []).some((h) => h.dev === name))
    } catch {
      // no such family: no route
    }
  }
  const addrs = JSON.parse(run('ip', ['-json', 'address', 'show', 'dev', name]) || '[]') as { addr_info?: { local?: string }[] }[]
  for (const a of addrs.flatMap((x) => x.addr_info ?? [])) if (a.local && !isLinkLocal(a.local)) addresses.add(a.local)
  return { defaultRoute, addresses: [...addresses] }
}

export function isWireless(name: string): boolean {
  return existsSync(`/sys/class/net/${name}/phy80211`) || existsSync(`/sys/class/net/${name}/wireless`)
}
