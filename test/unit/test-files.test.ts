// One test file per module, as the README says (issue 19): every module of
// scripts/lib has test/unit/<the same path>.test.ts, which tests it.
import { existsSync, readdirSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const LIB = resolve(__dirname, '../../scripts/lib')
const UNIT = resolve(__dirname)

/** Modules with nothing to test, and why. */
const EXEMPT: Record<string, string> = {
  // Types only (Link, Entry, Registry, ...): no logic, nothing runs.
  'types.ts': 'types only, no logic',
}

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? modules(join(dir, d.name)) : d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [relative(LIB, join(dir, d.name))] : []))
}

describe('unit test files', () => {
  const all = modules(LIB)

  it('every library module has a unit test file of its own', () => {
    const missing = all.filter((m) => !(m in EXEMPT) && !existsSync(join(UNIT, m.replace(/\.ts$/, '.test.ts'))))
    expect(missing.map((m) => `scripts/lib/${m} has no test/unit/${m.replace(/\.ts$/, '.test.ts')}`)).toEqual([])
  })

  it('the exemptions are modules that exist', () => {
    expect(Object.keys(EXEMPT).filter((m) => !all.includes(m))).toEqual([])
  })
})
