// What an interrupted demo left behind (issue 18): the next demo removes it,
// told apart by name and PID from a demo still running and from anything else.
import { describe, expect, it } from 'vitest'
import { demoLeftovers } from '../../../scripts/commands/demo.js'

describe('demoLeftovers', () => {
  const running = (pid: number) => pid === 200

  it("a dead demo's three netns and its registry folder", () => {
    const r = demoLeftovers(['nbdemo-100-host', 'nbdemo-100-ctr', 'nbdemo-100-wire'], ['nicback-demo-100-aB3xY9'], running)
    expect(r).toEqual({ netns: ['nbdemo-100-host', 'nbdemo-100-ctr', 'nbdemo-100-wire'], dirs: ['nicback-demo-100-aB3xY9'] })
  })

  it("a running demo's are kept", () => {
    expect(demoLeftovers(['nbdemo-200-host'], ['nicback-demo-200-aB3xY9'], running)).toEqual({ netns: [], dirs: [] })
  })

  it('nothing named otherwise, however close', () => {
    const netns = ['nbdemo-100-other', 'nbdemo-100-host-x', 'xnbdemo-100-host', 'nbdemo-x-host', 'nbdemo--host', 'nbdemo-0-host', 'nbt-100-1-host', 'qa']
    const dirs = ['nicback-demo-100-abc', 'nicback-demo-abcdef', 'nicback-demo-100-aB3xY9x', 'nicback-cli-100-aB3xY9', 'nicback-demo-100-aB3xY9/..']
    expect(demoLeftovers(netns, dirs, running)).toEqual({ netns: [], dirs: [] })
  })
})
