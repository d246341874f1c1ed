// The log's lines as written: text on stderr and syslog lines escaped for
// people, JSON lines exact (issue 17, item 12).
import { describe, expect, it } from 'vitest'
import { NicbackError, toFields } from '../../../scripts/lib/system/errors.js'
import { fieldsText, nodeName, stderrLine, syslogLine } from '../../../scripts/lib/system/log.js'

const NAME = 'x\u001b[31mx\u0007'
const ALIAS = '\u202e1hte'
const MSG = `restored eth1: it was ${NAME}, alias ${ALIAS}\nnicback: forged line`
// eslint-disable-next-line no-control-regex -- it finds control characters
const RAW = /[\u0000-\u001f\u007f-\u009f\u202e]/

describe('log lines', () => {
  it('a text line on stderr shows what a container chose escaped, on one line', () => {
    const line = stderrLine('warning', MSG, { nic: NAME }, false)
    expect(line).toBe('nicback: warning: restored eth1: it was x\\x1b[31mx\\x07, alias \\u{202e}1hte\\x0anicback: forged line')
    expect(line).not.toMatch(RAW)
    expect(stderrLine('info', NAME, undefined, false)).toBe('nicback: x\\x1b[31mx\\x07')
    expect(stderrLine('err', NAME, undefined, false)).toBe('nicback: error: x\\x1b[31mx\\x07')
  })

  it('a syslog line likewise, behind its priority', () => {
    expect(syslogLine('info', MSG)).toBe('<30>restored eth1: it was x\\x1b[31mx\\x07, alias \\u{202e}1hte\\x0anicback: forged line')
    expect(syslogLine('err', ALIAS)).toBe('<27>\\u{202e}1hte')
  })

  it('a JSON line carries the message and the fields exactly, none of it raw', () => {
    const time = new Date('2024-01-01T00:00:00Z')
    const line = stderrLine('err', MSG, { nic: NAME, cause: ALIAS }, true, time)
    expect(line).not.toMatch(RAW)
    expect(JSON.parse(line)).toEqual({ time: time.toISOString(), level: 'error', msg: MSG, nic: NAME, cause: ALIAS })
  })
})

describe("the node's name on every line (NICBACK_NODE_NAME, from the downward API)", () => {
  it('a JSON line carries it as a field, a text line names it; a name Kubernetes would not give a node is dropped', () => {
    const time = new Date('2024-01-01T00:00:00Z')
    expect(JSON.parse(stderrLine('info', 'restored eth1', { nic: 'eth1' }, true, time, 'node-a.example'))).toEqual({ time: time.toISOString(), level: 'info', node: 'node-a.example', msg: 'restored eth1', nic: 'eth1' })
    expect(stderrLine('warning', 'w', undefined, false, time, 'node-a')).toBe('nicback on node-a: warning: w')
    expect(nodeName('node-a.example')).toBe('node-a.example')
    for (const bad of ['', 'Node_A', 'a\u001b[31m', 'x'.repeat(254), '-a', undefined]) expect(nodeName(bad)).toBeNull()
  })
})

describe('fields on a text line (every line structured: issue 19)', () => {
  it('a text line renders the fields its sentence does not say, after it, escaped', () => {
    expect(stderrLine('warning', 'cannot restore eth1: "eth1" is held', { nic: 'eth1', now: 'eth9', cause: '"eth1" is held', fix: 'free the name' }, false)).toBe('nicback: warning: cannot restore eth1: "eth1" is held [now=eth9 fix="free the name"]')
    expect(stderrLine('info', 'restored eth1', { nic: 'eth1' }, false)).toBe('nicback: restored eth1')
    expect(stderrLine('err', 'x', { cause: `a ${NAME}` }, false)).toBe('nicback: error: x [cause="a x\\u001b[31mx\\u0007"]')
    expect(stderrLine('err', 'x', { cause: `a ${NAME}` }, false)).not.toMatch(RAW)
  })
  it('a list is joined, a number or list the sentence names is not repeated, a false flag or an empty value is left out', () => {
    expect(fieldsText('ran in 12 ms: a; b', { steps: ['a', 'b'], ms: 12, dryRun: false })).toBe('')
    expect(fieldsText('waiting for eth1', { nics: ['eth1', 'eth2'], timeoutMs: 500, forced: true, gone: undefined, none: null, empty: '' })).toBe(' [nics=eth1,eth2 timeoutMs=500 forced=true]')
    expect(fieldsText('m', { ifindex: [3, 4], was: { a: 1 } })).toBe(' [ifindex=3,4 was="{\\"a\\":1}"]')
  })
  it("a NicbackError's fields: its code and verb on the text line, all of it in a JSON line", () => {
    const err = new NicbackError({ code: 'lock_held', verb: 'take the lock', cause: 'cannot lock /l: still held', fix: 'check "fuser -v /l"' })
    expect(stderrLine('err', err.message, toFields(err), false)).toBe('nicback: error: cannot lock /l: still held; check "fuser -v /l" [code=lock_held verb="take the lock"]')
    const time = new Date('2024-01-01T00:00:00Z')
    expect(JSON.parse(stderrLine('err', err.message, toFields(err), true, time))).toEqual({
      time: time.toISOString(),
      level: 'error',
      msg: err.message,
      code: 'lock_held',
      verb: 'take the lock',
      cause: 'cannot lock /l: still held',
      fix: 'check "fuser -v /l"',
    })
    expect(syslogLine('err', err.message, toFields(err))).toBe('<27>cannot lock /l: still held; check "fuser -v /l" [code=lock_held verb="take the lock"]')
  })
})
