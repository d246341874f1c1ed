// Which recorded NICs release takes back from a container (givenTo).
import { describe, expect, test } from 'vitest'
import { parseInspect } from '../../../scripts/lib/runtimes/engine.js'
import { givenTo } from '../../../scripts/lib/runtimes/release.js'
import { fixture } from '../helpers.js'

describe('nicback release --from', () => {
  test('which recorded NICs were given to the container asked for', () => {
    const id = '4f1d2c3b5a69e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3'
    const info = parseInspect(fixture('docker-inspect.json'), 'docker', 'centos7')
    expect(givenTo({ id, name: 'centos7', pid: 1 }, 'centos7', info)).toBe(true)
    expect(givenTo({ id, pid: 1 }, 'centos7', info)).toBe(true) // by id, as the engine knows it
    expect(givenTo({ name: 'centos7' }, 'x', info)).toBe(true)
    // The container is gone: what was typed against what was recorded.
    expect(givenTo({ id, name: 'centos7' }, 'centos7', null)).toBe(true)
    expect(givenTo({ id, name: 'centos7' }, id, null)).toBe(true)
    expect(givenTo({ id, name: 'centos7' }, '4f1d2c3b', null)).toBe(true)
    expect(givenTo({ id, name: 'centos7' }, '4f1', null)).toBe(false) // too short a prefix
    expect(givenTo({ id, name: 'centos7' }, 'centos', null)).toBe(false)
    expect(givenTo({ pid: 4242 }, '4242', null)).toBe(false)
    expect(givenTo(undefined, 'centos7', info)).toBe(false)
  })
})
