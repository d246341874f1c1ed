// The built `nicback status`: --json rows, the table, a corrupted registry.
import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { entry, nicback, registry, useBuiltNicback, writeRegistry } from './nicback.js'

useBuiltNicback()

describe('status', () => {
  it('--json prints an array of rows with recordedName, name and state', () => {
    writeRegistry(entry('eth7', 'nicback-test/bus/1'))
    const r = nicback('status', '--json')
    expect(r.code, r.err).toBe(0)
    const rows = JSON.parse(r.out) as Record<string, unknown>[]
    expect(Array.isArray(rows)).toBe(true)
    for (const row of rows) {
      expect(row).toHaveProperty('recordedName')
      expect(row).toHaveProperty('name')
      expect(['home', 'away', 'gone', 'returned_misnamed', 'conflict', 'unrecorded']).toContain(row.state)
    }
    expect(rows).toContainEqual(expect.objectContaining({ recordedName: 'eth7', name: null, state: 'gone', container: { name: 'web' } }))
  })

  it('prints a table for people', () => {
    writeRegistry(entry('eth7', 'nicback-test/bus/1'))
    const r = nicback('status')
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/^RECORDED +NOW +STATE +SOURCE +IDENTITY +WHERE$/m)
    // its bus position has no device on this machine: gone, not away
    expect(r.out).toMatch(/^eth7 +- +gone +registry +bus nicback-test\/bus\/1 +no device at bus nicback-test\/bus\/1 any more .*"nicback forget eth7"/m)
  })

  it('a corrupted registry: exit 1, the file named, the file left as it is', () => {
    writeFileSync(registry(), '{"format": "nicback-registry", "version": 1, "nics": [')
    const r = nicback('status')
    expect(r.code).toBe(1)
    expect(r.err).toContain(`${registry()} is not valid JSON`)
    expect(readFileSync(registry(), 'utf8')).toBe('{"format": "nicback-registry", "version": 1, "nics": [')
  })
})
