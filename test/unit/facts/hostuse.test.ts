// How the host uses a NIC it is asked to give away (facts/hostuse.ts): the
// default route as the kernel says it (IPv4 and IPv6, multipath included),
// the addresses from systeminformation and from `ip address`, link-local
// ones not counted. Both sources are replaced here: no `ip` is run.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { hostUse, isWireless } from '../../../scripts/lib/facts/hostuse.js'
import { run } from '../../../scripts/lib/system/exec.js'

const si = vi.hoisted(() => ({ interfaces: [] as unknown, fail: false }))
vi.mock('systeminformation', () => ({
  networkInterfaces: async () => {
    if (si.fail) throw new Error('no /sys')
    return si.interfaces
  },
}))
vi.mock('../../../scripts/lib/system/exec.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../scripts/lib/system/exec.js')>()),
  run: vi.fn(),
}))

/** `ip` answering with these routes (-4, -6) and addresses. */
function ip(routes4: unknown[] | Error, routes6: unknown[] | Error, addrs: unknown[]): void {
  vi.mocked(run).mockImplementation((cmd, args) => {
    expect(cmd).toBe('ip')
    if (args.includes('route')) {
      const r = args.includes('-4') ? routes4 : routes6
      if (r instanceof Error) throw r
      return JSON.stringify(r)
    }
    expect(args).toEqual(['-json', 'address', 'show', 'dev', 'eth1'])
    return JSON.stringify(addrs)
  })
}

beforeEach(() => {
  si.interfaces = []
  si.fail = false
  vi.mocked(run).mockReset()
})

describe('hostUse', () => {
  it('a NIC the host does not use: no default route, no address', async () => {
    ip([{ dst: 'default', dev: 'eth0' }], [], [{ addr_info: [] }])
    expect(await hostUse('eth1')).toEqual({ defaultRoute: false, addresses: [] })
  })

  it('the default route through it, IPv4 or IPv6, or as one of the nexthops of a multipath route', async () => {
    ip([{ dst: 'default', dev: 'eth1' }], [], [])
    expect((await hostUse('eth1')).defaultRoute).toBe(true)
    ip([], [{ dst: 'default', dev: 'eth1' }], [])
    expect((await hostUse('eth1')).defaultRoute).toBe(true)
    ip([{ dst: 'default', nexthops: [{ dev: 'eth0' }, { dev: 'eth1' }] }], [], [])
    expect((await hostUse('eth1')).defaultRoute).toBe(true)
    ip([{ dst: 'default', nexthops: [{ dev: 'eth0' }] }], [], [])
    expect((await hostUse('eth1')).defaultRoute).toBe(false)
  })

  it('a family ip cannot show (no IPv6): no route in it, not an error', async () => {
    ip([], new Error('ip -json -6 route show default: failed'), [])
    expect(await hostUse('eth1')).toEqual({ defaultRoute: false, addresses: [] })
    // nothing printed at all: no route, no address
    vi.mocked(run).mockImplementation(() => '')
    expect(await hostUse('eth1')).toEqual({ defaultRoute: false, addresses: [] })
  })

  it("addresses from ip and systeminformation, each once; link-local ones don't count", async () => {
    si.interfaces = [
      { iface: 'eth0', ip4: '10.0.0.9', ip6: '' },
      { iface: 'eth1', ip4: '192.0.2.7', ip6: 'fe80::1' },
    ]
    ip([], [], [{ addr_info: [{ local: '192.0.2.7' }, { local: '169.254.3.4' }, { local: 'FE80::2' }, { local: 'fe9a::3' }, { local: '2001:db8::7' }] }])
    expect(await hostUse('eth1')).toEqual({ defaultRoute: false, addresses: ['192.0.2.7', '2001:db8::7'] })
  })

  it('systeminformation answering with one interface, not a list', async () => {
    si.interfaces = { iface: 'eth1', ip4: '198.51.100.1', ip6: '' }
    ip([], [], [])
    expect((await hostUse('eth1')).addresses).toEqual(['198.51.100.1'])
  })

  it('systeminformation failing: ip alone (warned)', async () => {
    si.fail = true
    ip([], [], [{ addr_info: [{ local: '192.0.2.8' }] }])
    const warn = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      expect(await hostUse('eth1')).toEqual({ defaultRoute: false, addresses: ['192.0.2.8'] })
      expect(warn.mock.calls.map((c) => String(c[0])).join('')).toMatch(/systeminformation could not list the host's interfaces \(no \/sys\); using ip alone/)
    } finally {
      warn.mockRestore()
    }
  })
})

describe('isWireless', () => {
  it('a NIC sysfs does not know is not wireless', () => {
    expect(isWireless('nicback-no-such-nic')).toBe(false)
    expect(isWireless('lo')).toBe(false)
  })
})
