// sriov-cni's cache as data (facts/sriov-cache.ts): the VF's PCI address and
// host name from each file, and only files that are root's alone, in a
// directory that is too.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { notRootsAlone, parseSriovCache, readSriovCache } from '../../../scripts/lib/facts/sriov-cache.js'

/** What sriov-cni v2.10.0 writes (trimmed): its NetConf, with the VF's state before ADD. */
const cache = (deviceID: string, HostIFName: string) =>
  JSON.stringify({ cniVersion: '1.0.0', name: 'sriov-net', type: 'sriov', deviceID, OrigVfState: { HostIFName, SpoofChk: false, AdminMAC: '', EffectiveMAC: '52:54:00:12:34:56', Vlan: 0 }, ContIFNames: 'net1' })

describe('parseSriovCache', () => {
  it('the PCI address and host name; anything else is a reason, never a throw', () => {
    expect(parseSriovCache(cache('0000:01:10.0', 'enp1s16'))).toEqual({ bus: '0000:01:10.0', name: 'enp1s16' })
    expect(parseSriovCache(cache('0000:01:10.A', 'x'))).toBe('no PCI address in "deviceID"')
    expect(parseSriovCache('{"deviceID":"0000:01:10.0"}')).toBe('no host name in "OrigVfState.HostIFName"')
    expect(parseSriovCache(cache('0000:01:10.0', 'a/b'))).toBe('"OrigVfState.HostIFName" is not a valid interface name')
    expect(parseSriovCache(cache('0000:01:10.0', 'sixteen-bytes-xx'))).toBe('"OrigVfState.HostIFName" is not a valid interface name')
    expect(parseSriovCache('[')).toBe('not JSON')
    expect(parseSriovCache('null')).toBe('not a JSON object')
    expect(parseSriovCache('{"deviceID":7,"OrigVfState":null}')).toBe('no PCI address in "deviceID"')
  })

  it("notRootsAlone: root's and writable by no one else, or why not", () => {
    expect(notRootsAlone({ uid: 0, mode: 0o100600 }, 'f')).toBeNull()
    expect(notRootsAlone({ uid: 0, mode: 0o100644 }, 'f')).toBeNull()
    expect(notRootsAlone({ uid: 1000, mode: 0o100600 }, 'f')).toBe('f belongs to uid 1000, not root')
    expect(notRootsAlone({ uid: 0, mode: 0o100666 }, 'f')).toBe('others may write f (mode 0666)')
    expect(notRootsAlone({ uid: 0, mode: 0o100620 }, 'f')).toBe('others may write f (mode 0620)')
  })
})

// Ownership needs root to set up; CI runs every tier as root.
describe.runIf(process.getuid?.() === 0)('readSriovCache', () => {
  let top: string
  let dir: string
  beforeEach(() => {
    top = mkdtempSync(join(tmpdir(), 'nicback-sriov-'))
    dir = join(top, 'sriov')
    mkdirSync(dir, { mode: 0o700 })
    mkdirSync(join(dir, 'pci'))
    writeFileSync(join(dir, 'pci', '0000:01:10.0'), '/var/run/netns/pod')
  })
  afterEach(() => rmSync(top, { recursive: true, force: true }))
  const put = (name: string, text: string, mode = 0o600) => {
    writeFileSync(join(dir, name), text, { mode })
    chmodSync(join(dir, name), mode)
  }

  it('names by PCI address; a missing directory is an empty cache', () => {
    put('c1-net1', cache('0000:01:10.0', 'enp1s16'))
    put('c2-net1', cache('0000:01:10.1', 'enp1s16f1'))
    const c = readSriovCache(dir)
    expect(Object.fromEntries(c.byBus)).toEqual({
      '0000:01:10.0': [{ name: 'enp1s16', file: join(dir, 'c1-net1'), mtimeMs: statSync(join(dir, 'c1-net1')).mtimeMs }],
      '0000:01:10.1': [{ name: 'enp1s16f1', file: join(dir, 'c2-net1'), mtimeMs: statSync(join(dir, 'c2-net1')).mtimeMs }],
    })
    expect(c.refused).toEqual([])
    expect(readSriovCache(join(top, 'none'))).toEqual({ byBus: new Map(), refused: [] })
  })

  it("refuses a file that is not root's, one others may write, a symlink and a FIFO, each said why; the others are read", () => {
    put('good-net1', cache('0000:01:10.0', 'enp1s16'))
    put('theirs-net1', cache('0000:01:10.1', 'eth0'))
    chownSync(join(dir, 'theirs-net1'), 1000, 1000)
    put('open-net1', cache('0000:01:10.2', 'eth0'), 0o666)
    symlinkSync(join(dir, 'good-net1'), join(dir, 'link-net1'))
    execFileSync('mkfifo', [join(dir, 'fifo-net1')])
    const c = readSriovCache(dir)
    expect([...c.byBus.keys()]).toEqual(['0000:01:10.0'])
    expect(c.refused).toEqual([
      { file: join(dir, 'fifo-net1'), why: 'not a regular file' },
      { file: join(dir, 'link-net1'), why: 'a symlink' },
      { file: join(dir, 'open-net1'), why: 'others may write the file (mode 0666)' },
      { file: join(dir, 'theirs-net1'), why: 'the file belongs to uid 1000, not root' },
    ])
  })

  it("refuses the whole directory when it is not root's alone, or a link", () => {
    put('good-net1', cache('0000:01:10.0', 'enp1s16'))
    chmodSync(dir, 0o777)
    expect(readSriovCache(dir)).toEqual({ byBus: new Map(), refused: [{ file: dir, why: `others may write ${dir} (mode 0777)` }] })
    chmodSync(dir, 0o700)
    chownSync(dir, 1000, 1000)
    expect(readSriovCache(dir).refused).toEqual([{ file: dir, why: `${dir} belongs to uid 1000, not root` }])
    chownSync(dir, 0, 0)
    symlinkSync(dir, join(top, 'alias'))
    expect(readSriovCache(join(top, 'alias')).refused).toEqual([{ file: join(top, 'alias'), why: `${join(top, 'alias')} is not a directory (a symlink)` }])
  })
})
