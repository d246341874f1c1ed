// The version is said once in the code, and it is package.json's.
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { VERSION } from '../../../scripts/lib/system/version.js'

it("VERSION is package.json's version", () => {
  expect(VERSION).toBe((JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version)
})
