// Fuzz tier (issue 8): every input a container or a caller controls, thrown
// at the parsers and the planner with fast-check. No uncaught exception of
// another kind than the parser's own, no registry nicback would refuse to
// read back, nothing renamed that the input did not justify. 14,000 cases
// a run in total (NICBACK_FUZZ_RUNS scales them).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseAssign } from '../../scripts/commands/assign.js'
import { parseRelease } from '../../scripts/commands/release.js'
import { parseIpJson, linksFromIpJson } from '../../scripts/lib/facts/links.js'
import { isValidIfname } from '../../scripts/lib/facts/names.js'
import { parseSriovCache } from '../../scripts/lib/facts/sriov-cache.js'
import { parseUdevEvent } from '../../scripts/lib/moments/udev-event.js'
import { noteDeparture } from '../../scripts/lib/plan/departure.js'
import { planRestore } from '../../scripts/lib/plan/planner.js'
import { declaredNics, parseConfig, parseState } from '../../scripts/lib/runtimes/oci.js'
import { emptyRegistry, parseRegistry } from '../../scripts/lib/state/registry.js'
import type { Entry } from '../../scripts/lib/types.js'

const scale = Number(process.env.NICBACK_FUZZ_RUNS ?? 1)
const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * scale)) })

/** The kernel's dev_valid_name(), byte for byte (net/core/dev.c, lib/ctype.c). */
function kernelValid(bytes: Uint8Array): boolean {
  if (bytes.length === 0 || bytes.length > 15 || bytes.includes(0)) return false
  const s = Buffer.from(bytes).toString('latin1')
  if (s === '.' || s === '..') return false
  return ![...bytes].some((b) => b === 0x2f || b === 0x3a || b === 0x20 || (b >= 0x09 && b <= 0x0d) || b === 0xa0)
}

/** Any bytes the kernel allows in a name, altname or alias. */
const anyBytes = fc.uint8Array({ minLength: 1, maxLength: 20 })
const nameish = fc.oneof(fc.constantFrom('eth0', 'ens3', 'dev3', 'nbtmp3', 'lo', '.', '..', 'a b', 'a:b', 'a/b', '\u3000x', '\u00a0', 'Р', 'x'.repeat(16)), fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 8 }))

describe('names', () => {
  it('isValidIfname is exactly the kernel dev_valid_name() on UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 16 }), nameish), (s) => {
        const bytes = Buffer.from(s, 'utf8')
        const roundTrips = bytes.toString('utf8') === s
        expect(isValidIfname(s)).toBe(roundTrips && kernelValid(bytes))
      }),
      runs(2500),
    )
  })
})

describe('udev environment', () => {
  const env = fc.record(
    {
      ACTION: fc.oneof(fc.constantFrom('add', 'move', 'remove', 'change', ''), fc.string()),
      INTERFACE: nameish,
      DEVPATH: fc.oneof(fc.constantFrom('/devices/pci0000:00/0000:00:03.0/net/ens3', '/devices/virtual/net/veth0', '/devices/pci0000:00/0000:00:04.0/virtio1/net/x', '/../../etc'), fc.string()),
      IFINDEX: fc.oneof(fc.constantFrom('3', '-1', '1e300', '0', '99999999999', '3.5', ' 3', ''), fc.string()),
    },
    { requiredKeys: [] },
  )
  it('an event is parsed or ignored, never thrown; what is accepted records into a registry that reads back', () => {
    fc.assert(
      fc.property(env, (e) => {
        const r = parseUdevEvent(e)
        if ('ignore' in r) return
        expect(isValidIfname(r.event.name)).toBe(true)
        if (r.event.ifindex !== null) expect(Number.isSafeInteger(r.event.ifindex) && r.event.ifindex > 0).toBe(true)
        const reg = emptyRegistry()
        noteDeparture(reg, { name: r.event.name, ifindex: r.event.ifindex, bus: r.event.bus, devPort: null, permAddr: null, mac: null, via: 'udev' }, '2026-01-01T00:00:00.000Z')
        expect(() => parseRegistry(JSON.stringify(reg), 'fuzz')).not.toThrow()
      }),
      runs(2500),
    )
  })
})

describe("the OCI hook's stdin and bundle", () => {
  const json = fc.jsonValue({ maxDepth: 3 })
  const stateLike = fc.record(
    {
      ociVersion: fc.oneof(fc.constant('1.0.2'), json),
      id: fc.oneof(fc.string(), json),
      status: fc.oneof(fc.constant('creating'), json),
      pid: fc.oneof(fc.integer(), json),
      bundle: fc.oneof(fc.constant('/b'), fc.string(), json),
      annotations: fc.oneof(fc.dictionary(fc.string(), fc.string()), json),
    },
    { requiredKeys: [] },
  )
  it('parseState throws only NicbackError oci, whatever the text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          json.map((j) => JSON.stringify(j)),
          stateLike.map((s) => JSON.stringify(s)),
        ),
        (text) => {
          try {
            parseState(text)
          } catch (err) {
            expect(err).toMatchObject({ code: 'oci' })
          }
        },
      ),
      runs(1500),
    )
  })
  it('a config.json and its declared NICs throw only NicbackError oci', () => {
    const config = fc.record(
      {
        annotations: fc.oneof(fc.dictionary(fc.constantFrom('io.nicback.nics', 'x'), nameish), json),
        process: fc.oneof(
          fc.record({
            env: fc.array(
              fc.oneof(
                nameish.map((n) => `NICBACK_NICS=${n}`),
                fc.string(),
              ),
            ),
          }),
          json,
        ),
        linux: fc.oneof(fc.record({ netDevices: fc.dictionary(nameish, fc.record({ name: nameish }, { requiredKeys: [] })) }), json),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(config, (c) => {
        try {
          declaredNics({ annotations: undefined }, parseConfig(JSON.stringify(c), 'config.json'))
        } catch (err) {
          expect(err).toMatchObject({ code: 'oci' })
        }
      }),
      runs(1500),
    )
  })
})

describe('the registry file', () => {
  it('parseRegistry throws only NicbackError registry, whatever the file holds', () => {
    const entryLike = fc.record(
      {
        name: nameish,
        bus: fc.option(fc.string()),
        devPort: fc.option(fc.oneof(fc.integer(), fc.double())),
        permAddr: fc.option(fc.string()),
        mac: fc.option(fc.string()),
        ifindex: fc.option(fc.oneof(fc.integer(), fc.double())),
        driver: fc.option(fc.string()),
        mtu: fc.option(fc.integer()),
        up: fc.option(fc.boolean()),
        recordedAt: fc.string(),
        away: fc.option(fc.jsonValue({ maxDepth: 2 })),
      },
      { requiredKeys: [] },
    )
    const file = fc.oneof(
      fc.string(),
      fc.jsonValue().map((j) => JSON.stringify(j)),
      fc.array(entryLike, { maxLength: 4 }).map((nics) => JSON.stringify({ format: 'nicback-registry', version: 1, nics })),
    )
    fc.assert(
      fc.property(file, (text) => {
        try {
          parseRegistry(text, 'fuzz.json')
        } catch (err) {
          expect(err).toMatchObject({ code: 'registry' })
        }
      }),
      runs(1500),
    )
  })
})

describe("sriov-cni's cache (day one)", () => {
  it('parseSriovCache never throws; what it accepts is a PCI address and a name the kernel allows, and a registry entry under it reads back', () => {
    const hostIfName = fc.oneof(
      fc.string(),
      fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b).toString('utf8')),
      fc.constantFrom('enp1s0v3', 'eth0', '', '.', 'a/b', 'x'.repeat(16)),
    )
    const bus = fc.oneof(fc.string(), fc.constantFrom('0000:01:10.0', '0000:01:10.7', '0000:01:10.8', 'FFFF:FF:1F.7', '../../x'))
    const text = fc.oneof(
      fc.string(),
      fc.record({ deviceID: fc.oneof(bus, fc.integer(), fc.constant(null)), OrigVfState: fc.oneof(fc.record({ HostIFName: fc.oneof(hostIfName, fc.integer()) }), fc.constant(null), fc.string()) }).map((o) => JSON.stringify(o)),
    )
    fc.assert(
      fc.property(text, (t) => {
        const r = parseSriovCache(t)
        if (typeof r === 'string') return
        expect(r.bus).toMatch(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/)
        expect(isValidIfname(r.name)).toBe(true)
        const reg = { ...emptyRegistry(), nics: [{ name: r.name, bus: r.bus, devPort: null, permAddr: null, mac: null, ifindex: 3, driver: null, mtu: null, up: null, recordedAt: 't', away: null, foundBy: 'sriov-cni' as const }] }
        expect(parseRegistry(JSON.stringify(reg), 'fuzz').nics[0]!.name).toBe(r.name)
      }),
      runs(1500),
    )
  })
})

describe('command lines', () => {
  const argv = fc.array(fc.oneof(fc.constantFrom('--to', '--pid', '--netns', '--as', '--force', '--from', '--timeout', '--json', '-h', 'ens3', '0', '-1', '1e9', ''), nameish), { maxLength: 6 })
  it('assign and release parse or throw NicbackError usage', () => {
    fc.assert(
      fc.property(argv, (a) => {
        for (const parse of [parseAssign, parseRelease]) {
          try {
            parse(a)
          } catch (err) {
            expect(err).toMatchObject({ code: 'usage' })
          }
        }
      }),
      runs(1500),
    )
  })
})

describe('link facts through a fake ip', () => {
  /** `ip -json` output as ip prints it: `"` and `\` escaped, every other byte raw. */
  function ipString(bytes: Uint8Array): Buffer {
    const out: number[] = [0x22]
    for (const b of bytes) {
      if (b === 0x22 || b === 0x5c) out.push(0x5c, b)
      else if (b === 0x0a) out.push(0x5c, 0x6e)
      else if (b === 0x09) out.push(0x5c, 0x74)
      else if (b === 0x0d) out.push(0x5c, 0x72)
      else if (b === 0x08) out.push(0x5c, 0x62)
      else if (b === 0x0c) out.push(0x5c, 0x66)
      else out.push(b)
    }
    out.push(0x22)
    return Buffer.from(out)
  }
  const device = fc.record({ name: anyBytes, alias: fc.option(anyBytes), alt: fc.array(anyBytes, { maxLength: 2 }), managed: fc.boolean() })
  it('every device is read whatever bytes the others hold, and the plan renames only managed NICs', () => {
    fc.assert(
      fc.property(fc.array(device, { minLength: 1, maxLength: 6 }), (devs) => {
        const parts = devs.map((d, i) => {
          const fields = [Buffer.from(`{"ifindex":${i + 2},"ifname":`), ipString(d.name), Buffer.from(`,"mtu":1500,"address":"02:00:00:00:00:${(i + 2).toString(16).padStart(2, '0')}"`)]
          if (d.alias) fields.push(Buffer.from(',"ifalias":'), ipString(d.alias))
          if (d.alt.length) fields.push(Buffer.from(',"altnames":['), Buffer.concat(d.alt.flatMap((a, k) => (k ? [Buffer.from(','), ipString(a)] : [ipString(a)]))), Buffer.from(']'))
          fields.push(Buffer.from(`,"parentbus":"pci","parentdev":"0000:00:0${i}.0"}`))
          return Buffer.concat(fields)
        })
        const out = Buffer.concat([Buffer.from('['), ...parts.flatMap((p, i) => (i ? [Buffer.from(','), p] : [p])), Buffer.from(']\n')])
        const raw = parseIpJson(out)
        expect(raw).toHaveLength(devs.length)
        const links = linksFromIpJson(raw, (_bus, dev) => dev)
        for (const [i, l] of links.entries()) {
          expect(l.ifindex).toBe(i + 2)
          const bytes = Buffer.from(devs[i]!.name)
          if (bytes.toString('utf8') === l.name) expect(Buffer.from(l.name, 'utf8').equals(bytes)).toBe(true)
          else expect(l.name).toMatch(/ \(not UTF-8\)$/)
        }
        const entries: Entry[] = links.flatMap((l, i) =>
          devs[i]!.managed ? [{ name: `host${i}`, bus: l.bus, devPort: null, permAddr: null, mac: l.mac, ifindex: l.ifindex, driver: null, mtu: 1500, up: false, recordedAt: 't', away: { since: 't', via: 'udev' as const, leftAs: `host${i}` } }] : [],
        )
        const plan = planRestore(links, entries, { want: () => true, renameWhileUp: true })
        const managed = new Set(entries.map((e) => e.ifindex))
        for (const s of plan.names) {
          if (s.op === 'altname-del') expect(managed.has(s.ifindex)).toBe(true)
          if (s.op === 'rename') expect(managed.has(s.ifindex)).toBe(true)
        }
      }),
      runs(1500),
    )
  })
})
