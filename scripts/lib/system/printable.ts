// How text that came from outside is shown to people (issue 17, item 12). A
// container names its NICs, their aliases and altnames; a process picks its
// own comm; a runtime passes container names and paths. Any of them may hold
// what a terminal acts on (ESC, BEL, CSI: colours, titles, a cleared screen),
// a line break that forges a log line, or an invisible character that makes
// one name pass for another (U+202E turns the text after it around: a NIC
// named "\u202e1hte" reads "eth1").
//
// One rule, applied once, where text is written for people: every table,
// line and error on stdout and stderr and every syslog line goes through
// printable() as it is written (cli/cli.ts's table() and say(), the log's
// lines in system/log.ts, and the few lines the entry points write
// themselves), and nowhere before, so what the code passes around stays
// exact. JSON output (--json, the agent's JSON logs) carries the exact
// strings: jsonText() writes the same characters as \u escapes, which JSON
// reads back as the characters themselves.
//
// The escapes are \xNN for a code point up to U+00FF and \u{N} above it. A
// backslash is left as it is, so printable() is idempotent (text escaped
// once, a non-UTF-8 name shown as \xNN by facts/names.ts escapeBytes, comes
// through a second pass unchanged): a name that holds the four characters
// "\x1b" reads the same as one that holds ESC. --json tells them apart.

/** What is escaped: control characters (C0, DEL, C1), format characters
 *  (the bidi embeddings, overrides and isolates U+202A-202E, U+2066-2069,
 *  the marks U+200E, U+200F and U+061C, zero-width spaces and joiners,
 *  U+FEFF, tags), lone surrogates, the line and paragraph separators, every
 *  other default-ignorable (invisible) code point, and the spaces other than
 *  U+0020 (a table's columns are set apart by spaces). */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/gu

function escape(c: string): string {
  const cp = c.codePointAt(0)!
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`
}

/** `s` for a terminal or a log line: one line, nothing a terminal acts on,
 *  nothing invisible; printable ASCII (and every other visible character)
 *  as it is. */
export function printable(s: string): string {
  return s.replace(UNSAFE, escape)
}

/** A JSON value as text (JSON.stringify's, `indent` as there), with the
 *  characters printable() escapes that JSON.stringify leaves raw (DEL, C1,
 *  bidi and other invisible ones) written as \u escapes: the same value
 *  when read back, harmless on a terminal. */
export function jsonText(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent) ?? 'null'
  // Outside strings JSON holds no such character but the white space of
  // `indent`; inside them JSON.stringify has already escaped C0 controls.
  return text.replace(UNSAFE, (c) => (c < ' ' ? c : c.replace(/[\s\S]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`)))
}
