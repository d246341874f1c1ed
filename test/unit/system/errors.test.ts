import { describe, expect, it } from 'vitest'
import { errorMessage, errorText, isNicbackError, NicbackError, nicbackError, toFields } from '../../../scripts/lib/system/errors.js'

describe('NicbackError', () => {
  it('its message is its cause, then its fix: the data and the text never disagree', () => {
    const e = new NicbackError({ code: 'registry', verb: 'read registry', cause: '/x is not valid JSON', fix: 'move it aside' })
    expect(e.message).toBe('/x is not valid JSON; move it aside')
    expect(errorMessage({ cause: 'c' })).toBe('c')
    expect(e).toBeInstanceOf(Error)
    expect(e.name).toBe('NicbackError')
  })
  it('keeps the data a caller branches on, and the optional data of a failed command', () => {
    const e = nicbackError('command_failed', 'run ip', 'ip link: boom', { argv: ['ip', 'link'], stderr: 'boom\n', status: 2, nic: 'eth0' })
    expect(e).toMatchObject({ code: 'command_failed', verb: 'run ip', nic: 'eth0', cause: 'ip link: boom', argv: ['ip', 'link'], stderr: 'boom\n', status: 2 })
    expect(e.fix).toBeUndefined()
  })
  it('isNicbackError checks the type, and the code when codes are given', () => {
    const e = nicbackError('lock_held', 'lock', 'held')
    expect(isNicbackError(e)).toBe(true)
    expect(isNicbackError(e, 'lock_held')).toBe(true)
    expect(isNicbackError(e, 'lock_failed', 'lock_held')).toBe(true)
    expect(isNicbackError(e, 'lock_failed')).toBe(false)
    expect(isNicbackError(new Error('lock_held'), 'lock_held')).toBe(false)
    expect(isNicbackError('lock_held')).toBe(false)
  })
  it("toFields gives a NicbackError's data, and any other error's text as its cause", () => {
    expect(toFields(nicbackError('not_netns', 'open netns', 'not a netns', { nic: 'eth1', fix: 'give a netns' }))).toEqual({ code: 'not_netns', verb: 'open netns', nic: 'eth1', cause: 'not a netns', fix: 'give a netns' })
    expect(toFields(nicbackError('command_failed', 'run ip', 'x', { status: 1 }))).toEqual({ code: 'command_failed', verb: 'run ip', cause: 'x', status: 1 })
    expect(toFields(new Error('plain'))).toEqual({ cause: 'plain' })
    expect(toFields('thrown text')).toEqual({ cause: 'thrown text' })
    expect(errorText(42)).toBe('42')
  })
})
