// Minimal edits of JSON files someone else owns (system/json-edit.ts): the
// part nicback adds or takes out is a text edit, every other byte stays, and
// remove() gives back exactly the text add() was given.
import { describe, expect, it } from 'vitest'
import { add, emptyInside, nodeAt, remove, tree } from '../../../scripts/lib/system/json-edit.js'

const BIG = '{"oom_score_adj": 18446744073709551615, "x": 1.50}'

describe('tree and nodeAt', () => {
  it('an empty text is refused', () => {
    expect(() => tree('')).toThrow('empty JSON text')
    expect(() => tree('   ')).toThrow('empty JSON text')
  })

  it('finds the node at a path, or nothing', () => {
    const root = tree('{"a": {"b": [1, 2]}}')
    expect(nodeAt(root, ['a', 'b', 1])?.value).toBe(2)
    expect(nodeAt(root, ['a', 'c'])).toBeUndefined()
    expect(nodeAt(root, ['z', 'c'])).toBeUndefined()
  })

  it('a key given twice on the way is refused, naming the path (JSON.parse keeps the last, an edit would go to the first)', () => {
    expect(() => nodeAt(tree('{"a": {"b": 1}, "a": {"b": 2}}'), ['a', 'b'])).toThrow('"a" is given 2 times')
    expect(() => nodeAt(tree('{"a": {"b": 1, "b": 2, "b": 3}}'), ['a', 'b'])).toThrow('"a.b" is given 3 times')
  })
})

describe('add', () => {
  it('keeps every byte outside the edit: 64-bit integers, number spelling, spacing', () => {
    const out = add(BIG, ['runtimes'], { nicback: { path: '/usr/local/sbin/nicback-runtime' } })
    expect(out).toBe('{"oom_score_adj": 18446744073709551615, "x": 1.50, "runtimes": {"nicback": {"path": "/usr/local/sbin/nicback-runtime"}}}')
    expect(out.startsWith(BIG.slice(0, -1))).toBe(true)
  })

  it('on one line as Go writes it (no spaces): adds without spaces', () => {
    expect(add('{"ociVersion":"1.0.2","hooks":{}}', ['hooks', 'poststop'], [{ path: '/x' }])).toBe('{"ociVersion":"1.0.2","hooks":{"poststop":[{"path":"/x"}]}}')
  })

  it('indented: follows the indentation and the line ends around it', () => {
    const text = '{\n    "debug": true,\n    "log-level": "warn"\n}\n'
    expect(add(text, ['runtimes'], { nb: { path: '/p' } })).toBe('{\n    "debug": true,\n    "log-level": "warn",\n    "runtimes": {\n        "nb": {\n            "path": "/p"\n        }\n    }\n}\n')
    const crlf = '{\r\n  "debug": true\r\n}\r\n'
    expect(add(crlf, ['a'], 1)).toBe('{\r\n  "debug": true,\r\n  "a": 1\r\n}\r\n')
  })

  it('makes the containers missing on the way', () => {
    expect(add('{"a": 1}', ['hooks', 'createRuntime', -1], { path: '/h' })).toBe('{"a": 1, "hooks": {"createRuntime": [{"path": "/h"}]}}')
  })

  it('a null where a container goes takes the value in its place', () => {
    expect(add('{"hooks": null, "b": 2}', ['hooks', 'poststop', -1], 'x')).toBe('{"hooks": {"poststop": ["x"]}, "b": 2}')
  })

  it('appends to an array (-1), after its last element', () => {
    expect(add('{"l": [1, 2]}', ['l', -1], 3)).toBe('{"l": [1, 2, 3]}')
    expect(add('{"l": []}', ['l', -1], 3)).toBe('{"l": [3]}')
  })

  it('refuses what it cannot do as a minimal edit, naming the path', () => {
    expect(() => add('{"l": {}}', ['l', -1], 1)).toThrow('"l" is not an array')
    expect(() => add('{"a": [1]}', ['a', 'b'], 1)).toThrow('"a" is not an object')
    expect(() => add('{"a": {"b": 0}}', ['a', 'b'], 1)).toThrow('"a.b" is there already')
    expect(() => add('{"a": 1, "a": {}}', ['a', 'b'], 1)).toThrow('"a" is given 2 times')
  })
})

describe('emptyInside and remove: the exact inverse of add', () => {
  const texts = [
    BIG,
    '{}',
    '{ }',
    '{"runtimes": {}}',
    '{"runtimes": { }, "x": 1}',
    '{\n  "runtimes": {\n  }\n}\n',
    '{\n\t"runtimes": {\n\t\t"runc": {"path": "runc"}\n\t},\n\t"z": [1,2]\n}',
    '{"a":1,"runtimes":{"runc":{"path":"runc"}}}',
    '{\r\n  "b": false\r\n}\r\n',
  ]
  for (const text of texts) {
    it(`gives back ${JSON.stringify(text)} byte for byte`, () => {
      const path = ['runtimes', 'nicback']
      const inside = emptyInside(text, ['runtimes']) ?? emptyInside(text, []) ?? ''
      const added = add(text, path, { path: '/usr/local/sbin/nicback-runtime' })
      expect(JSON.parse(added).runtimes.nicback).toEqual({ path: '/usr/local/sbin/nicback-runtime' })
      const back = nodeAt(tree(text), ['runtimes']) === undefined ? remove(added, ['runtimes'], emptyInside(text, []) ?? '') : remove(added, path, inside)
      expect(back).toBe(text)
    })
  }

  it('emptyInside: the whitespace inside an empty object or array; null otherwise', () => {
    expect(emptyInside('{"a": { \n }}', ['a'])).toBe(' \n ')
    expect(emptyInside('{"a": []}', ['a'])).toBe('')
    expect(emptyInside('{"a": [1]}', ['a'])).toBeNull()
    expect(emptyInside('{"a": 1}', ['a'])).toBeNull()
    expect(emptyInside('{"a": 1}', ['b'])).toBeNull()
  })

  it('remove: the first of several takes its comma and the space after it; a missing path changes nothing', () => {
    expect(remove('{"a": 1, "b": 2}', ['a'])).toBe('{"b": 2}')
    expect(remove('{"a": 1, "b": 2}', ['b'])).toBe('{"a": 1}')
    expect(remove('{"a": 1}', ['zz'])).toBe('{"a": 1}')
    expect(remove('{"a": 1}', ['a'])).toBe('{}')
    expect(remove('{"a": 1}', ['a'], '\n')).toBe('{\n}')
  })
})
