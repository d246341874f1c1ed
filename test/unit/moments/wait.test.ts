// What a wait for returning NICs counts as back, and its backstop poll.
import { describe, expect, test } from 'vitest'
import { pollInterval, presentNics } from '../../../scripts/lib/moments/wait.js'
import { entry, link } from '../helpers.js'

describe('waiting for NICs to come back', () => {
  test('a recorded NIC is back under any name, recognised by identity; an unknown name by itself', () => {
    const entries = [entry('ens3', { bus: '0000:00:03.0' }), entry('ens5', { bus: '0000:00:05.0' })]
    const links = [link('dev3', { bus: '0000:00:03.0' }), link('eth9')]
    expect(presentNics(['ens3', 'ens5', 'eth9', 'eth8'], entries, links)).toEqual(['ens3', 'eth9'])
  })

  test('the backstop poll interval', () => {
    expect(pollInterval(undefined)).toBe(2000)
    expect(pollInterval('60000')).toBe(60000)
    expect(pollInterval('nope')).toBe(2000)
    expect(pollInterval('0')).toBe(2000)
  })
})
