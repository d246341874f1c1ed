// Minimal edits of a JSON file someone else owns (daemon.json, a bundle's
// config.json): nicback adds or takes out its own part as a text edit and
// leaves every other byte as it was. A JSON.parse/JSON.stringify round trip
// would not: it rounds 64-bit integers (18446744073709551615 becomes
// 18446744073709552000, which runc and dockerd refuse) and reformats the
// rest. jsonc-parser (Microsoft's) finds the nodes and makes the edits; the
// text nicback inserts follows the layout around it (one line, or indented).
import { applyEdits, findNodeAtLocation, modify, parseTree, type Edit, type JSONPath, type Node } from 'jsonc-parser'
import { nicbackError } from './errors.js'

export type { Node }

/** The parse tree of a text JSON.parse accepts (the caller checks that first). */
export function tree(text: string): Node {
  const root = parseTree(text, [], { disallowComments: true, allowTrailingComma: false })
  if (root === undefined) throw nicbackError('json_edit', 'edit JSON text', 'empty JSON text')
  return root
}

/** The node at `path`; a key given twice on the way is refused (JSON.parse
 *  keeps the last, the edit would go to the first). */
export function nodeAt(root: Node, path: JSONPath): Node | undefined {
  let node: Node | undefined = root
  for (let i = 0; i < path.length && node !== undefined; i++) {
    const key = path[i]!
    if (typeof key === 'string' && node.type === 'object') {
      const props = (node.children ?? []).filter((p) => p.children?.[0]?.value === key)
      if (props.length > 1) throw nicbackError('json_edit', 'edit JSON text', `"${path.slice(0, i + 1).join('.')}" is given ${props.length} times`)
    }
    node = findNodeAtLocation(node, [key])
  }
  return node
}

interface Style {
  eol: string
  unit: string
  multiline: boolean
  /** On one line: what goes after a key's colon and after a comma (Go's
   *  json.Marshal, as in Docker's config.json, puts nothing). */
  space: string
}

function styleOf(text: string): Style {
  const m = /^[{[]\r?\n([ \t]+)\S/.exec(text)
  const first = tree(text).children?.[0]?.children
  const space = first?.length === 2 && first[1]!.offset === first[0]!.offset + first[0]!.length + 1 ? '' : ' '
  return { eol: text.includes('\r\n') ? '\r\n' : '\n', unit: m ? m[1]! : '  ', multiline: text.includes('\n'), space }
}

/** The whitespace that starts the line holding `offset`. */
function lineIndent(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1
  return /^[ \t]*/.exec(text.slice(start))![0]
}

/** `value` as JSON on one line, with `space` after each colon and comma. */
function oneLine(value: unknown, space: string): string {
  if (Array.isArray(value)) return `[${value.map((v) => oneLine(v, space)).join(`,${space}`)}]`
  if (typeof value === 'object' && value !== null)
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${space}${oneLine(v, space)}`)
      .join(`,${space}`)}}`
  return JSON.stringify(value)
}

/** `value` as JSON, laid out as the container it goes into is. */
function render(value: unknown, style: Style, indent: string, inline: boolean): string {
  if (inline) return oneLine(value, style.space)
  return JSON.stringify(value, null, style.unit)
    .split('\n')
    .join(style.eol + indent)
}

/** The edit that adds `key: value` (object) or `value` (array, `key` null) at
 *  the end of `container`, after its last child. */
function appendEdit(text: string, container: Node, key: string | null, value: unknown): Edit {
  const style = styleOf(text)
  const children = container.children ?? []
  const head = key === null ? '' : `${JSON.stringify(key)}:${style.multiline ? ' ' : style.space}`
  const last = children.at(-1)
  if (last === undefined) {
    // Empty: its inside (whitespace at most) becomes the new child.
    const inline = !style.multiline
    const outer = lineIndent(text, container.offset)
    const child = `${head}${render(value, style, outer + style.unit, inline)}`
    const content = inline ? child : `${style.eol}${outer}${style.unit}${child}${style.eol}${outer}`
    return { offset: container.offset + 1, length: container.length - 2, content }
  }
  const first = children[0]!
  const inline = !text.slice(container.offset, first.offset).includes('\n')
  const indent = inline ? '' : lineIndent(text, last.offset)
  const sep = inline ? (children.length > 1 ? text.slice(children.at(-2)!.offset + children.at(-2)!.length, last.offset) : `,${style.space}`) : `,${style.eol}${indent}`
  return { offset: last.offset + last.length, length: 0, content: `${sep}${head}${render(value, style, indent, inline)}` }
}

/** `text` with `value` set at `path`, made of the containers on the way that
 *  are missing; the path must end at a key that is not there yet, or at -1
 *  (append to an array). */
export function add(text: string, path: JSONPath, value: unknown): string {
  const root = tree(text)
  let i = path.length - 1
  let parent = nodeAt(root, path.slice(0, i))
  while (parent === undefined || parent.type === 'null') {
    const seg = path[i]!
    value = seg === -1 ? [value] : { [seg]: value }
    if (parent !== undefined) {
      // A null where a container goes (JSON.parse'd code reads it as none): the value takes its place.
      const style = styleOf(text)
      return applyEdits(text, [{ offset: parent.offset, length: parent.length, content: render(value, style, lineIndent(text, parent.offset), !style.multiline) }])
    }
    parent = nodeAt(root, path.slice(0, --i))
  }
  const seg = path[i]!
  if (seg === -1) {
    if (parent.type !== 'array') throw nicbackError('json_edit', 'edit JSON text', `"${path.slice(0, i).join('.')}" is not an array`)
    return applyEdits(text, [appendEdit(text, parent, null, value)])
  }
  if (parent.type !== 'object' || typeof seg !== 'string') throw nicbackError('json_edit', 'edit JSON text', `"${path.slice(0, i).join('.')}" is not an object`)
  if (nodeAt(parent, [seg]) !== undefined) throw nicbackError('json_edit', 'edit JSON text', `"${path.slice(0, i + 1).join('.')}" is there already`)
  return applyEdits(text, [appendEdit(text, parent, seg, value)])
}

/** The whitespace inside the object or array at `path` when it is empty
 *  (`{ }`: " "); null when it is not there or not empty. add() replaces it,
 *  so a caller that wants the exact text back keeps it for remove(). */
export function emptyInside(text: string, path: JSONPath): string | null {
  const node = nodeAt(tree(text), path)
  if (node === undefined || (node.type !== 'object' && node.type !== 'array') || (node.children ?? []).length > 0) return null
  return text.slice(node.offset + 1, node.offset + node.length - 1)
}

/** `text` without the property at `path`: the exact inverse of add(). An
 *  object left empty holds `inside` (default: nothing, `{}`): what
 *  emptyInside() found there before add() filled it. */
export function remove(text: string, path: JSONPath, inside = ''): string {
  const root = tree(text)
  const node = nodeAt(root, path)
  if (node === undefined) return text
  const prop = node.parent!
  const parent = prop.parent!
  const siblings = parent.children!
  if (siblings.length === 1) return applyEdits(text, [{ offset: parent.offset + 1, length: parent.length - 2, content: inside }])
  // The first of several: it goes with the comma and space after it, so the
  // next one takes its place (jsonc-parser would take the space before it).
  if (siblings[0] === prop) return applyEdits(text, [{ offset: prop.offset, length: siblings[1]!.offset - prop.offset, content: '' }])
  return applyEdits(text, modify(text, path, undefined, {}))
}
