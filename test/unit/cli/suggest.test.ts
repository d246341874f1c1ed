// "Did you mean" (issue 18): the nearest command or option to a mistyped one.
import { describe, expect, it } from 'vitest'
import { didYouMean, distance, nearest } from '../../../scripts/lib/cli/suggest.js'

const COMMANDS = ['status', 'metrics', 'record', 'restore', 'forget', 'demo', 'install', 'uninstall', 'assign', 'release', 'hook', 'watch', 'completion', 'help']

describe('distance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(distance('', '')).toBe(0)
    expect(distance('status', 'status')).toBe(0)
    expect(distance('stauts', 'status')).toBe(2)
    expect(distance('dryrun', 'dry-run')).toBe(1)
    expect(distance('', 'abc')).toBe(3)
    expect(distance('kitten', 'sitting')).toBe(3)
  })
})

describe('nearest', () => {
  it('a command at most 2 edits away', () => {
    expect(nearest('stauts', COMMANDS)).toEqual(['status'])
    expect(nearest('restor', COMMANDS)).toEqual(['restore'])
    expect(nearest('hok', COMMANDS)).toEqual(['hook'])
    expect(nearest('Status', COMMANDS)).toEqual(['status'])
    expect(nearest('instal', COMMANDS)).toEqual(['install'])
  })

  it('nothing when all are 3 or more edits away, or as many as the word has letters', () => {
    expect(nearest('frobnicate', COMMANDS)).toEqual([])
    expect(nearest('xyz', COMMANDS)).toEqual([])
    expect(nearest('x', ['as', 'to'])).toEqual([])
    expect(nearest('zz', ['as', 'to'])).toEqual([])
  })

  it('every one at the least distance, in their order', () => {
    expect(nearest('tx', ['as', 'to', 'tz'])).toEqual(['to', 'tz'])
  })
})

describe('didYouMean', () => {
  it('a clause to append, or nothing', () => {
    expect(didYouMean('stauts', COMMANDS)).toBe('; did you mean "status"?')
    expect(didYouMean('dryrun', ['all', 'dry-run', 'json'], '--')).toBe('; did you mean "--dry-run"?')
    expect(didYouMean('tx', ['to', 'tz'])).toBe('; did you mean "to" or "tz"?')
    expect(didYouMean('frobnicate', COMMANDS)).toBe('')
  })
})
