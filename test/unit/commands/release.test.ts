// nicback release's command line (the pure parseRelease).
import { describe, expect, test } from 'vitest'
import { parseRelease } from '../../../scripts/commands/release.js'

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
})
