// What `nicback install` wrote (state/manifest.ts): read and checked before
// it drives any removal, so that only paths install itself writes are ever
// removed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BIN, HOOK_FILES, HOOKS_D, installedPaths, LIB, MANIFEST, readManifest, RULES, RUNTIME_BIN, UNIT, UNIT_WANTS } from '../../../scripts/lib/state/manifest.js'

let root = ''
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'nicback-manifest-'))
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

function write(data: unknown): string {
  const path = join(root, MANIFEST)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data))
  return path
}

describe('installedPaths', () => {
  it('every path install may write, and only those', () => {
    const paths = installedPaths()
    expect(paths.slice(0, 6)).toEqual([LIB, BIN, RULES, UNIT, UNIT_WANTS, RUNTIME_BIN])
    expect(paths.slice(6)).toEqual([...HOOK_FILES.annotation, ...HOOK_FILES.always].map((f) => `${HOOKS_D}/${f}`))
    expect(paths).not.toContain(MANIFEST)
    expect(new Set(paths).size).toBe(paths.length)
  })
})

describe('readManifest', () => {
  it('no manifest: nothing was installed', () => {
    expect(readManifest(root)).toEqual({ files: [] })
  })

  it('reads the files and the daemon.json note', () => {
    const m = { files: [BIN, `${HOOKS_D}/${HOOK_FILES.always[1]}`], docker: { path: '/etc/docker/daemon.json', runtime: 'nicback', createdFile: false, createdRuntimes: true, empty: ' \n' } }
    write(m)
    expect(readManifest(root)).toEqual(m)
    write({ files: [] })
    expect(readManifest(root)).toEqual({ files: [] })
  })

  it('not JSON: refused, nothing removed, says what to do', () => {
    const path = write('{"files": [')
    expect(() => readManifest(root)).toThrow(new RegExp(`^${path} is not valid JSON \\(.*\\); nothing removed: remove nicback's files by hand \\(see "nicback install --help"\\) or move it aside$`))
  })

  it('a path install never writes is refused, naming where', () => {
    const path = write({ files: [BIN, '/etc/passwd'] })
    expect(() => readManifest(root)).toThrow(`${path} is not nicback's install manifest (files.1: is not a path nicback install writes); nothing removed`)
  })

  it('a daemon.json note elsewhere, or whitespace that is not whitespace, is refused', () => {
    write({ files: [], docker: { path: '/etc/passwd', runtime: 'nicback', createdFile: true, createdRuntimes: true } })
    expect(() => readManifest(root)).toThrow(/is not nicback's install manifest \(docker\.path: .*\)/)
    write({ files: [], docker: { path: '/etc/docker/daemon.json', runtime: 'nicback', createdFile: true, createdRuntimes: true, empty: ' x ' } })
    expect(() => readManifest(root)).toThrow(/is not nicback's install manifest \(docker\.empty: is not JSON whitespace\)/)
  })

  it('the wrong shape: at most three problems named, (top) for the whole', () => {
    write('5')
    expect(() => readManifest(root)).toThrow(/is not nicback's install manifest \(\(top\): .*\)/)
    write({ files: ['/a', '/b', '/c', '/d'] })
    const msg = (() => {
      try {
        readManifest(root)
      } catch (err) {
        return (err as Error).message
      }
      return ''
    })()
    expect(msg.match(/is not a path nicback install writes/g)).toHaveLength(3)
  })
})
