// How text from outside is shown to people, and how JSON carries it exactly
// (issue 17, item 12).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonText, printable } from '../../../scripts/lib/system/printable.js'

/** What must never reach a terminal raw: controls (C0, DEL, C1), format and
 *  other invisible characters, lone surrogates, line and paragraph
 *  separators, and the bidi controls named one by one (they are all Cf, but
 *  this is the list the issue is about). */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u

/** The spaces other than U+0020, escaped too (a table's columns are set apart by spaces). */
const OTHER_SPACES = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/

const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))
/** Any string: any code point, lone surrogates too. */
const anyString = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: codeUnit, maxLength: 40 }))
const printableAscii = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 })

/** The escapes read back: \xNN and \u{N}. */
const unescape = (s: string) => s.replace(/\\x([0-9a-f]{2})|\\u\{([0-9a-f]+)\}/g, (_, x?: string, u?: string) => String.fromCodePoint(parseInt(x ?? u!, 16)))

const runs = { numRuns: 2000 }

describe('printable', () => {
  it('shows terminal controls, bidi controls and invisible characters as escapes', () => {
    expect(printable('x\u001b[31mx\u0007')).toBe('x\\x1b[31mx\\x07')
    expect(printable('\u202e1hte')).toBe('\\u{202e}1hte')
    expect(printable('a\nb\r\t\u0000\u007f\u009b')).toBe('a\\x0ab\\x0d\\x09\\x00\\x7f\\x9b')
    expect(printable('\u061c\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u2066\u2069\ufeff\u00ad')).toBe('\\u{61c}\\u{200b}\\u{200c}\\u{200d}\\u{200e}\\u{200f}\\u{2028}\\u{2029}\\u{202a}\\u{2066}\\u{2069}\\u{feff}\\xad')
    expect(printable('eth\u{e0031}')).toBe('eth\\u{e0031}')
    expect(printable('a\ud800b\udfff')).toBe('a\\u{d800}b\\u{dfff}')
    expect(printable('x\u3000y\u00a0z')).toBe('x\\u{3000}y\\xa0z')
  })

  it('leaves visible text alone: letters of any script, emoji, space, the backslash', () => {
    for (const s of ['eth0', 'é'.repeat(7), '网卡0', 'نت0', '😀', 'a b', 'a\\x1b', 'x\\u{202e}']) expect(printable(s)).toBe(s)
  })

  it('its output never holds a control, bidi or invisible character, whatever the input', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        expect(printable(s)).not.toMatch(UNSAFE)
      }),
      runs,
    )
  })

  it('is the identity on printable ASCII, and on any string without such characters', () => {
    const unchanged = (s: string) => {
      expect(printable(s)).toBe(s)
    }
    fc.assert(fc.property(printableAscii, unchanged), runs)
    fc.assert(
      fc.property(
        anyString.filter((s) => !UNSAFE.test(s) && !OTHER_SPACES.test(s)),
        unchanged,
      ),
      runs,
    )
  })

  it('is idempotent: text escaped once (or a name escapeBytes wrote) comes through a second pass unchanged', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        expect(printable(printable(s))).toBe(printable(s))
      }),
      runs,
    )
  })

  it('reads back unambiguously where the text holds no backslash of its own (the documented exception)', () => {
    fc.assert(
      fc.property(
        anyString.filter((s) => !s.includes('\\')),
        (s) => {
          expect(unescape(printable(s))).toBe(s)
        },
      ),
      runs,
    )
  })
})

describe('jsonText', () => {
  it('is JSON that reads back as the exact value, whatever the strings hold', () => {
    const value = fc.oneof(anyString, fc.array(anyString, { maxLength: 4 }), fc.dictionary(anyString, anyString, { maxKeys: 4 }), fc.jsonValue())
    fc.assert(
      fc.property(value, fc.constantFrom(undefined, 2), (v, indent) => {
        expect(JSON.parse(jsonText(v, indent))).toEqual(JSON.parse(JSON.stringify(v)))
      }),
      runs,
    )
    expect(JSON.parse(jsonText({ name: 'x\u001b[31mx\u0007', alias: '\u202e1hte\u{e0031}' }))).toEqual({ name: 'x\u001b[31mx\u0007', alias: '\u202e1hte\u{e0031}' })
  })

  it('holds no raw control, bidi or invisible character but the line breaks of its indentation', () => {
    fc.assert(
      fc.property(fc.dictionary(anyString, fc.oneof(anyString, fc.array(anyString, { maxLength: 3 })), { maxKeys: 4 }), (v) => {
        expect(jsonText(v)).not.toMatch(UNSAFE)
        expect(jsonText(v, 2).replace(/\n/g, '')).not.toMatch(UNSAFE)
      }),
      runs,
    )
    expect(jsonText('\u202e\u009b\u007f')).toBe('"\\u202e\\u009b\\u007f"')
    expect(jsonText('\u{e0031}')).toBe('"\\udb40\\udc31"')
  })

  it('is JSON.stringify where nothing needs escaping', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(jsonText(v, 2)).toBe(JSON.stringify(v, null, 2))
      }),
      { numRuns: 500 },
    )
  })
})
