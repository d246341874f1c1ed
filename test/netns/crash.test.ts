// Issue 8: a restore killed at any step (a udev worker killed mid-run, a
// node OOM, a reboot of the agent) leaves a state the next run finishes. For
// an 8-NIC mess with a 3-way rename cycle, nicback is SIGKILLed after step k
// of its batch (NICBACK_STOP_AFTER=k, a test hook), for every k; the next run
// brings every NIC home and no temporary name is left.
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { createWorld, destroyWorlds, ensureBuilt, type RestoreJson, type World } from './world.js'

beforeAll(ensureBuilt)
afterEach(destroyWorlds)

/** Eight recorded stand-ins: eth0-eth2 back in a 3-cycle (each under the
 *  next one's name), eth3 back under a free name, eth4 back as devN. */
function mess(): World {
  const w = createWorld({ nics: 8 })
  expect(w.nicback(['record', ...w.nics]).code).toBe(0)
  const a = w.container('cycle')
  const b = w.container('other')
  w.lend(a, ['eth0', 'eth1', 'eth2'], { eth0: 'eth1', eth1: 'eth2', eth2: 'eth0' })
  w.lend(b, ['eth3', 'eth4'], { eth3: 'lan3', eth4: 'eth5' })
  w.handBack(a)
  w.handBack(b)
  return w
}

describe('killed at every step of an 8-NIC plan with a 3-cycle', () => {
  test('the next run converges: all home, no nbtmp name left', () => {
    const plan = mess().nicbackJson<RestoreJson>(['restore', '--all', '--dry-run'])
    const n = plan.json.steps.length
    expect(plan.json.steps.some((s) => /temporary/.test(s.description))).toBe(true)
    expect(n).toBeGreaterThan(6)
    destroyWorlds()
    for (let k = 1; k < n; k++) {
      const w = mess()
      const killed = w.nicback(['restore', '--all'], { NICBACK_STOP_AFTER: String(k) })
      expect(killed.code, `k=${k}: the run should have died`).not.toBe(0)
      const next = w.nicbackJson<RestoreJson>(['restore', '--all'])
      expect(next.code, `k=${k}: ${next.stderr}`).toBe(0)
      expect(w.where(), `k=${k}`).toEqual(w.allHome())
      expect(
        w.links().filter((l) => /^nbt/.test(l.ifname)),
        `k=${k}`,
      ).toEqual([])
      destroyWorlds()
    }
  }, 300_000)
})
