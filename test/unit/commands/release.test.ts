// nicback release's command line (the pure parseRelease) and which recorded
// NICs it takes back from a container (givenTo).
import { describe, expect, test } from 'vitest'
import { givenTo, parseRelease } from '../../../scripts/commands/release.js'
import { parseInspect } from '../../../scripts/lib/runtimes/engine.js'
import { fixture } from '../helpers.js'

describe('nicback release command line', () => {
  test('names, or --from; a timeout in seconds', () => {
    expect(parseRelease(['ens3', 'ens5'])).toEqual({ names: ['ens3', 'ens5'], from: undefined, timeoutMs: 30_000, json: false })
    expect(parseRelease(['--from', 'c1', '--timeout', '2.5', '--json'])).toEqual({ names: [], from: 'c1', timeoutMs: 2500, json: true })
  })

  test.each([
    [[], 'name the NIC(s)'],
    [['ens3', '--from', 'c1'], 'not both'],
    [['--from', ''], '--from needs'],
    [['ens3', '--timeout', '0'], '--timeout needs'],
    [['ens3', '--timeout=-1'], '--timeout needs'],
    [['ens3', '--timeout', '-1'], 'argument is ambiguous'],
    [['ens3', '--timeout', 'x'], '--timeout needs'],
    [['ens3', '--timeout', ' '], '--timeout needs'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseRelease(argv)).toThrow(expect.objectContaining({ code: 'usage' }))
    expect(() => parseRelease(argv)).toThrow(message)
  })

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
