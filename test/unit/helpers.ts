// Builders and fixtures shared by the unit tests (one test file a module).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach } from 'vitest'
import type { Departure } from '../../scripts/lib/plan/departure.js'
import { emptyRegistry } from '../../scripts/lib/state/registry.js'
import type { Entry, Identity, Link, Registry } from '../../scripts/lib/types.js'

/** A file of test/unit/fixtures/ (container engines' output). */
export const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')

/** A device now: ifindex 2, MAC only, up (assign / release / wait / refusals). */
export function link(name: string, over: Partial<Link> = {}): Link {
  return { ifindex: 2, name, altnames: [], mac: '02:00:00:00:00:01', permAddr: null, bus: null, devPort: null, driver: null, ifalias: null, kind: null, up: true, mtu: 1500, ...over }
}

/** A recorded NIC matching link(): ifindex 2, MAC only, home. */
export function entry(name: string, over: Partial<Entry> = {}): Entry {
  return { name, bus: null, devPort: null, permAddr: null, mac: '02:00:00:00:00:01', ifindex: 2, driver: null, mtu: 1500, up: true, recordedAt: 't', away: null, ...over }
}

/** An identity with only the given fields. */
export const identity = (o: Partial<Identity>): Identity => ({ bus: null, devPort: null, permAddr: null, mac: null, ...o })

// ------------------------------------------ departures (plan/departure, moments/leave)

export const T0 = '2024-01-01T00:00:00.000Z'
export const NOW = '2024-06-01T12:00:00.000Z'
export const BUS = '0000:00:03.0'

/** A recorded e1000 NIC on BUS, home. */
export function busEntry(name: string, o: Partial<Entry> = {}): Entry {
  return { name, bus: BUS, devPort: null, permAddr: null, mac: '52:54:00:00:00:03', ifindex: 3, driver: 'e1000', mtu: 1500, up: true, recordedAt: T0, away: null, ...o }
}
/** What the udev remove event carries: name, ifindex, bus from DEVPATH; sysfs is gone. */
export function dep(name: string, o: Partial<Departure> = {}): Departure {
  return { name, ifindex: 3, bus: BUS, devPort: null, permAddr: null, mac: null, via: 'udev', ...o }
}
export const reg = (...nics: Entry[]): Registry => ({ ...emptyRegistry(), nics })
export const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T

// ------------------------------------------ the registry file (state/registry, test/cli/lock)

/** A recorded e1000 NIC as the registry tests write it. */
export function registryEntry(name: string, o: Partial<Entry> = {}): Entry {
  return {
    name,
    bus: '0000:00:03.0',
    devPort: null,
    permAddr: null,
    mac: '52:54:00:12:34:56',
    ifindex: 3,
    driver: 'e1000',
    mtu: 1500,
    up: true,
    recordedAt: '2024-01-01T00:00:00.000Z',
    away: null,
    ...o,
  }
}

/** A fresh private NICBACK_STATE_DIR for each test of the file (made 0700
 *  by mkdtemp, as nicback requires); `state.dir` is the current one. */
export function useTempStateDir(): { readonly dir: string } {
  const state = { dir: '' }
  const saved = process.env.NICBACK_STATE_DIR
  beforeEach(() => {
    state.dir = mkdtempSync(join(tmpdir(), 'nicback-reg-'))
    process.env.NICBACK_STATE_DIR = state.dir
  })
  afterEach(() => {
    rmSync(state.dir, { recursive: true, force: true })
    if (saved === undefined) delete process.env.NICBACK_STATE_DIR
    else process.env.NICBACK_STATE_DIR = saved
  })
  return state
}

/** A temporary folder for the file's tests (removed after them) and OCI
 *  bundles in it: `bundleDir(config)` writes config.json (text as given,
 *  anything else as JSON). */
export function tempBundles(): { tmp: string; bundleDir: (config: unknown) => string } {
  const tmp = mkdtempSync(join(tmpdir(), 'nicback-shim-'))
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))
  let n = 0
  return {
    tmp,
    bundleDir(config) {
      const dir = join(tmp, `b${++n}`)
      mkdirSync(dir)
      writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config))
      return dir
    },
  }
}
