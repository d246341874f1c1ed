// The built `nicback forget`: unknown names, exactly one entry removed, a
// corrupted registry left as it is.
import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { entry, nicback, registry, useBuiltNicback, writeRegistry } from './nicback.js'

useBuiltNicback()

describe('forget', () => {
  it('a name that is not recorded: exit 1 with a message', () => {
    const r = nicback('forget', 'nosuch')
    expect(r.code).toBe(1)
    expect(r.err).toContain('nosuch is not a recorded NIC')
  })

  it('removes a recorded NIC from the registry and no other', () => {
    writeRegistry(entry('eth7', 'nicback-test/bus/1'), entry('eth8', 'nicback-test/bus/2'))
    const r = nicback('forget', 'eth7', '--json')
    expect(r.code, r.err).toBe(0)
    expect(JSON.parse(r.out)).toEqual({ forgotten: ['eth7 (bus nicback-test/bus/1)'], unknown: [] })
    const left = JSON.parse(readFileSync(registry(), 'utf8')) as { nics: { name: string }[] }
    expect(left.nics.map((e) => e.name)).toEqual(['eth8'])
  })

  it('with a corrupted registry: exit 1, the file not overwritten', () => {
    writeFileSync(registry(), '{"hello": 1}')
    const r = nicback('forget', 'eth7')
    expect(r.code).toBe(1)
    expect(r.err).toContain(`${registry()} is not a nicback registry`)
    expect(readFileSync(registry(), 'utf8')).toBe('{"hello": 1}')
  })
})
