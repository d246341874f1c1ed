// Installing below a root directory (never '/': nothing is reloaded, no NIC
// recorded) from a stand-in dist/ with the files install copies: every file
// written is in the manifest, the templates are filled, Docker's shim and its
// daemon.json key are added, and uninstall takes out exactly what was put in.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { install, uninstall } from '../../../scripts/lib/runtimes/install.js'
import { BIN, HOOK_FILES, HOOKS_D, LIB, MANIFEST, RULES, RUNTIME_BIN, UNIT } from '../../../scripts/lib/state/manifest.js'

let dir = ''
let root = ''
const argv1 = process.argv[1]
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nicback-install-'))
  const dist = join(dir, 'dist')
  root = join(dir, 'root')
  mkdirSync(join(dist, 'udev'), { recursive: true })
  mkdirSync(join(dist, 'hooks'), { recursive: true })
  mkdirSync(root)
  writeFileSync(join(dist, 'nicback.mjs'), '// the bundle\n')
  writeFileSync(join(dist, 'udev/81-nicback.rules'), 'RUN+="@NICBACK_FRONT@ @NODE@ @NICBACK_UDEV@"\n')
  writeFileSync(join(dist, 'udev/nicback-record.service'), 'ExecStart=@NICBACK_BIN@ record --boot\n')
  for (const f of [...HOOK_FILES.always, ...HOOK_FILES.annotation]) writeFileSync(join(dist, 'hooks', f), '{"hook": {"path": "@NICBACK_BIN@"}}\n')
  // where install copies from: the directory of the script running
  process.argv[1] = join(dist, 'nicback.mjs')
})
afterEach(() => {
  process.argv[1] = argv1!
  rmSync(dir, { recursive: true, force: true })
})

/** Every file below root, relative. */
function tree(at = root, prefix = ''): string[] {
  return readdirSync(at, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? tree(join(at, d.name), `${prefix}/${d.name}`) : [`${prefix}/${d.name}`]))
    .sort()
}

describe('install below a root, then uninstall', () => {
  it('writes the files the manifest lists, templates filled, and uninstall leaves the root as it was', async () => {
    writeFileSync(join(root, 'keep'), "not nicback's")
    const r = await install({ root, record: false, docker: true, netdevices: true })
    expect(r.kind).toBe('installed')
    expect(r.done).toEqual(['added runtime "nicback" to /etc/docker/daemon.json'])
    const manifest = JSON.parse(readFileSync(join(root, MANIFEST), 'utf8')) as { files: string[]; docker: { createdFile: boolean } }
    // the manifest lists everything but itself
    expect(manifest.files).toEqual(r.files.filter((f) => f !== MANIFEST))
    for (const f of [BIN, RULES, UNIT, RUNTIME_BIN, MANIFEST, ...HOOK_FILES.always.map((h) => join(HOOKS_D, h))]) expect(r.files).toContain(f)
    expect(r.files.some((f) => HOOK_FILES.annotation.some((h) => f.endsWith(h)))).toBe(false)
    expect(readFileSync(join(root, LIB, 'nicback.mjs'), 'utf8')).toBe('// the bundle\n')
    expect(readFileSync(join(root, RULES), 'utf8')).toBe(`RUN+="${LIB}/udev/nicback-udev-front.sh ${process.execPath} ${LIB}/nicback-udev.cjs"\n`)
    expect(readFileSync(join(root, BIN), 'utf8')).toContain(`exec ${process.execPath} ${LIB}/nicback.mjs "$@"`)
    expect(statSync(join(root, RUNTIME_BIN)).mode & 0o777).toBe(0o755)
    expect(statSync(join(root, MANIFEST)).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(join(root, '/etc/docker/daemon.json'), 'utf8'))).toMatchObject({ runtimes: { nicback: { path: RUNTIME_BIN } } })
    expect(manifest.docker.createdFile).toBe(true)
    // installing again changes nothing it does not own
    const again = await install({ root, record: false, docker: true, netdevices: false })
    expect(again.done).toEqual([])
    expect(again.files.some((f) => HOOK_FILES.always.some((h) => f.endsWith(h)))).toBe(false)
    const removed = await uninstall(root, false)
    expect(removed.length).toBeGreaterThan(0)
    expect(tree().filter((f) => !statSync(join(root, f)).isDirectory())).toEqual(['/keep'])
    expect(existsSync(join(root, '/etc/docker/daemon.json'))).toBe(false)
  })
})
