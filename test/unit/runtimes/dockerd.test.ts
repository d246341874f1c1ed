// nicback's key in /etc/docker/daemon.json: merged in, never clobbering, and
// taken out exactly.
import { describe, expect, it } from 'vitest'
import { addRuntime, removeRuntime, type DockerNote } from '../../../scripts/lib/runtimes/dockerd.js'

const value = { path: '/usr/local/sbin/nicback-runtime' }
const P = '/etc/docker/daemon.json'
const note = (o: Partial<DockerNote> = {}): DockerNote => ({ path: P, runtime: 'nicback', createdFile: false, createdRuntimes: false, ...o })

describe('addRuntime', () => {
  it('creates the file when there is none', () => {
    const r = addRuntime(null, P, 'nicback', value)
    expect(r).toMatchObject({ changed: true, createdFile: true, createdRuntimes: true })
    expect(JSON.parse(r.text)).toEqual({ runtimes: { nicback: value } })
  })

  it("keeps every other setting and runtime, and the file's indentation", () => {
    const text = '{\n    "log-level": "warn",\n    "runtimes": {\n        "crun": { "path": "/usr/bin/crun" }\n    }\n}\n'
    const r = addRuntime(text, P, 'nicback', value)
    expect(r).toMatchObject({ changed: true, createdFile: false, createdRuntimes: false })
    expect(JSON.parse(r.text)).toEqual({ 'log-level': 'warn', runtimes: { crun: { path: '/usr/bin/crun' }, nicback: value } })
    expect(r.text).toMatch(/^\{\n {4}"log-level"/)
  })

  it('adds "runtimes" when the file has none', () => {
    const r = addRuntime('{"debug": true}', P, 'nicback', value)
    expect(r).toMatchObject({ createdFile: false, createdRuntimes: true })
    expect(JSON.parse(r.text)).toEqual({ debug: true, runtimes: { nicback: value } })
  })

  it('is idempotent: the same entry again changes nothing', () => {
    const once = addRuntime('{}', P, 'nicback', value).text
    expect(addRuntime(once, P, 'nicback', value)).toMatchObject({ changed: false, text: once })
  })

  it('refuses an invalid file, naming it, and never rewrites it', () => {
    expect(() => addRuntime('{"runtimes": {', P, 'nicback', value)).toThrow(expect.objectContaining({ code: 'daemon_json' }))
    expect(() => addRuntime('{"runtimes": {', P, 'nicback', value)).toThrow(/\/etc\/docker\/daemon\.json is not valid JSON .*nicback will not touch it/)
    expect(() => addRuntime('[1]', P, 'nicback', value)).toThrow(/is not a JSON object/)
    expect(() => addRuntime('{"runtimes": []}', P, 'nicback', value)).toThrow(/"runtimes" that is not an object/)
  })

  it('refuses to replace a "nicback" runtime someone else wrote', () => {
    expect(() => addRuntime('{"runtimes": {"nicback": {"path": "/other"}}}', P, 'nicback', value)).toThrow(/already has a runtime named "nicback" .*"\/other"/)
  })
})

describe('removeRuntime', () => {
  it('takes out exactly its key', () => {
    const text = JSON.stringify({ debug: true, runtimes: { crun: { path: '/c' }, nicback: value } }, null, 2)
    const r = removeRuntime(text, note())
    expect(r.changed).toBe(true)
    expect(JSON.parse(r.text!)).toEqual({ debug: true, runtimes: { crun: { path: '/c' } } })
  })

  it('takes out "runtimes" and the file only if install made them', () => {
    const added = addRuntime(null, P, 'nicback', value)
    expect(removeRuntime(added.text, note({ createdFile: true, createdRuntimes: true }))).toEqual({ text: null, changed: true })
    // Someone added a setting since: the file stays, without nicback's key.
    const edited = JSON.stringify({ ...JSON.parse(added.text), debug: true })
    expect(JSON.parse(removeRuntime(edited, note({ createdFile: true, createdRuntimes: true })).text!)).toEqual({ debug: true })
    // "runtimes" was there before: it stays, empty.
    expect(JSON.parse(removeRuntime('{"runtimes": {"nicback": {}}}', note()).text!)).toEqual({ runtimes: {} })
  })

  it('changes nothing when the key is gone already', () => {
    expect(removeRuntime('{"runtimes": {}}', note())).toEqual({ text: '{"runtimes": {}}', changed: false })
  })

  it('refuses a file that became invalid', () => {
    expect(() => removeRuntime('{', note())).toThrow(/not valid JSON/)
  })
})

// Issue 17, item 10: install --docker and uninstall edit daemon.json as text.
// A JSON.parse/JSON.stringify round trip turned 9223372036854775807 into
// 9223372036854776000 (no longer an int64: dockerd refuses the file) and
// reformatted every line.
describe('daemon.json is edited in place, never re-serialised', () => {
  const extremes = '{\n  "default-ulimits": {\n    "memlock": { "Name": "memlock", "Hard": 9223372036854775807, "Soft": -9223372036854775808 }\n  },\n  "max-download-attempts": 9223372036854775807\n}\n'

  it('keeps the int64 extremes 9223372036854775807 and -9223372036854775808 exact through install and uninstall', () => {
    const added = addRuntime(extremes, P, 'nicback', value)
    expect(added.text).toContain('"Hard": 9223372036854775807, "Soft": -9223372036854775808')
    expect(added.text).toContain('"max-download-attempts": 9223372036854775807')
    expect(added.text).not.toMatch(/922337203685477[56]000/)
    expect(removeRuntime(added.text, note({ createdRuntimes: added.createdRuntimes })).text).toBe(extremes)
  })

  it('install only inserts its key: every byte of the original is there, in one piece before and after it', () => {
    const originals = [
      extremes,
      '{\n    "log-level": "warn",\n    "runtimes": {\n        "crun": { "path": "/usr/bin/crun" }\n    }\n}\n',
      '{\n\t"runtimes": {\n\t\t"crun": {"path": "/usr/bin/crun", "runtimeArgs": ["--debug"]}\n\t},\n\t"debug": true\n}',
      '{\r\n  "zeta": 1,\r\n  "alpha": 2\r\n}\r\n',
      '{"debug":true,"runtimes":{"crun":{"path":"/c"}}}',
    ]
    for (const before of originals) {
      const after = addRuntime(before, P, 'nicback', value).text
      let head = 0
      while (before[head] === after[head]) head++
      const tail = before.length - head
      expect(after.slice(0, head) + after.slice(after.length - tail), before).toBe(before)
      expect(after.slice(head, after.length - tail), before).toMatch(/"nicback"/)
      expect(JSON.parse(after).runtimes.nicback).toEqual(value)
    }
  })

  it('uninstall after install gives back the exact original text: indentation, key order, line ends, a trailing newline or none', () => {
    const originals = [
      extremes,
      extremes.trimEnd(),
      '{\n    "log-level": "warn",\n    "runtimes": {\n        "crun": { "path": "/usr/bin/crun" }\n    }\n}\n',
      '{\n\t"zeta": true,\n\t"alpha": {"b": 1, "a": 2}\n}',
      '{\r\n  "zeta": 1,\r\n  "alpha": 2\r\n}\r\n',
      '{\n  "runtimes": {},\n  "debug": true\n}\n',
      '{"debug": true}',
      '{"debug":true,"runtimes":{"crun":{"path":"/c"}}}',
      '{}',
      '{}\n',
    ]
    for (const before of originals) {
      const added = addRuntime(before, P, 'nicback', value)
      expect(added.changed, before).toBe(true)
      expect(removeRuntime(added.text, note({ createdRuntimes: added.createdRuntimes })), before).toEqual({ text: before, changed: true })
    }
  })

  // Issue 17, item 13: removing the package runs uninstall, and daemon.json
  // must be what it was before install --docker. Uninstall gave back `{}`
  // for an empty object that held whitespace, and deleted a file of only
  // whitespace.
  it('uninstall gives back an empty object that held whitespace, and a file of only whitespace, byte for byte', () => {
    const originals = ['{ }', '{\n}\n', '{\r\n}', '{"runtimes": { }}', '{\n  "runtimes": {\n  },\n  "debug": true\n}\n', '{"a": 9223372036854775807 , "runtimes":{\n\n}}', '', '\n', ' \r\n']
    for (const before of originals) {
      const added = addRuntime(before, P, 'nicback', value)
      expect(added.changed, before).toBe(true)
      expect(JSON.parse(added.text).runtimes.nicback, before).toEqual(value)
      const n = note({ createdFile: added.createdFile, createdRuntimes: added.createdRuntimes, empty: added.empty })
      expect(removeRuntime(added.text, n), JSON.stringify(before)).toEqual({ text: before, changed: true })
    }
    // no file before: none after; `{}` needs no note
    expect(addRuntime(null, P, 'nicback', value).empty).toBeUndefined()
    expect(addRuntime('{}', P, 'nicback', value).empty).toBeUndefined()
    expect(addRuntime('{"runtimes": {"crun": {"path": "/c"}}}', P, 'nicback', value).empty).toBeUndefined()
  })

  it('refuses a daemon.json that gives "runtimes" twice (dockerd reads the last, an edit would go to the first)', () => {
    const twice = '{"runtimes": {}, "runtimes": {"crun": {"path": "/c"}}}'
    expect(() => addRuntime(twice, P, 'nicback', value)).toThrow(/"runtimes" is given 2 times: nicback will not touch it/)
  })
})
