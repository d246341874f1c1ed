// EPIPE is quiet (issue 18): a reader that went away (`nicback status |
// head`) ends no nicback with a stack trace. The built entry points are held
// to it in test/cli/pipes.test.ts; here the handler itself.
import { EventEmitter } from 'node:events'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { isStdoutClosed, onStdoutClosed, quietPipes, resetPipes } from '../../../scripts/lib/cli/pipes.js'

const epipe = () => Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })

afterEach(resetPipes)

describe('quietPipes', () => {
  it('EPIPE on stdout: quiet, noted once, each wish told once', () => {
    const out = new EventEmitter()
    const err = new EventEmitter()
    quietPipes(out, err)
    const a = vi.fn()
    const b = vi.fn()
    onStdoutClosed(a)
    const takeBack = onStdoutClosed(b)
    takeBack()
    expect(isStdoutClosed()).toBe(false)
    expect(() => out.emit('error', epipe())).not.toThrow()
    expect(() => out.emit('error', epipe())).not.toThrow()
    expect(isStdoutClosed()).toBe(true)
    expect(a).toHaveBeenCalledTimes(1)
    expect(b).not.toHaveBeenCalled()
  })

  it('a wish made after stdout closed is told at once', () => {
    const out = new EventEmitter()
    quietPipes(out, new EventEmitter())
    out.emit('error', epipe())
    const late = vi.fn()
    onStdoutClosed(late)
    expect(late).toHaveBeenCalledTimes(1)
  })

  it('EPIPE on stderr: quiet, and stdout is not taken for closed', () => {
    const err = new EventEmitter()
    quietPipes(new EventEmitter(), err)
    expect(() => err.emit('error', epipe())).not.toThrow()
    expect(isStdoutClosed()).toBe(false)
  })

  it('any other error stays an error', () => {
    const out = new EventEmitter()
    const err = new EventEmitter()
    quietPipes(out, err)
    expect(() => out.emit('error', Object.assign(new Error('EIO'), { code: 'EIO' }))).toThrow('EIO')
    expect(() => err.emit('error', new Error('boom'))).toThrow('boom')
    expect(isStdoutClosed()).toBe(false)
  })
})
