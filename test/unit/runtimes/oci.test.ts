// What the OCI hook reads before it acts: the state on stdin, the NIC list of
// the annotation / NICBACK_NICS, the bundle's config.json, the stage.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { containerName, declaredNics, MAX_STATE_BYTES, netnsMount, parseConfig, parseNicList, parseStage, parseState, readBundle } from '../../../scripts/lib/runtimes/oci.js'

const state = (o: Record<string, unknown> = {}) => JSON.stringify({ ociVersion: '1.0.2', id: 'c1', status: 'creating', pid: 1234, bundle: '/run/b/c1', ...o })

describe('parseState', () => {
  it('accepts a runtime-spec state, annotations optional, pid optional (poststop)', () => {
    expect(parseState(state())).toEqual({ ociVersion: '1.0.2', id: 'c1', status: 'creating', pid: 1234, bundle: '/run/b/c1' })
    const s = parseState(state({ pid: undefined, status: 'stopped', annotations: { 'io.nicback.nics': 'eth2:eth0' } }))
    expect(s.pid).toBeUndefined()
    expect(s.annotations).toEqual({ 'io.nicback.nics': 'eth2:eth0' })
  })

  it('keeps unknown fields out and passes extra ones (runtimes add "rootfs", "created"...)', () => {
    expect(parseState(state({ rootfs: '/x', created: 'now' })).id).toBe('c1')
  })

  const bad: [string, string, RegExp][] = [
    ['empty stdin', '', /no container state on stdin/],
    ['white space only', ' \n', /no container state on stdin/],
    ['malformed JSON', '{"id": ', /not valid JSON/],
    ['a JSON array', '[]', /not a JSON object/],
    ['a JSON string', '"x"', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['missing id', JSON.stringify({ ociVersion: '1', status: 'creating', bundle: '/b' }), /id: missing/],
    ['missing bundle', JSON.stringify({ ociVersion: '1', id: 'c', status: 'creating' }), /bundle: missing/],
    ['missing ociVersion', JSON.stringify({ id: 'c', status: 'creating', bundle: '/b' }), /ociVersion: missing/],
    ['empty id', state({ id: '' }), /id: must not be empty/],
    ['pid as a string', state({ pid: '1234' }), /pid: .*number/],
    ['negative pid', state({ pid: -1 }), /pid: must not be negative/],
    ['fractional pid', state({ pid: 1.5 }), /pid: must be an integer/],
    ['relative bundle', state({ bundle: 'b/c1' }), /bundle: must be an absolute path/],
    ['annotations not strings', state({ annotations: { a: 1 } }), /annotations\.a: .*string/],
    ['annotations an array', state({ annotations: ['a'] }), /annotations: must be an object of strings/],
  ]
  for (const [what, text, msg] of bad) {
    it(`refuses ${what} with a clear oci error`, () => {
      let err: unknown
      try {
        parseState(text)
      } catch (e) {
        err = e
      }
      expect(err).toMatchObject({ code: 'oci' })
      expect((err as Error).message).toMatch(msg)
    })
  }

  it('refuses input over 1 MiB without parsing it', () => {
    const huge = state({ annotations: { x: 'a'.repeat(MAX_STATE_BYTES) } })
    expect(() => parseState(huge)).toThrow(/larger than 1048576 bytes/)
  })
})

describe('parseNicList (io.nicback.nics / NICBACK_NICS)', () => {
  it('reads host names with an optional name inside', () => {
    expect(parseNicList('eth2:eth0,eth3', 'a')).toEqual([
      { host: 'eth2', inside: 'eth0' },
      { host: 'eth3', inside: 'eth3' },
    ])
  })

  it('ignores spaces around names and separators', () => {
    expect(parseNicList(' eth2 : eth0 , eth3 ', 'a')).toEqual([
      { host: 'eth2', inside: 'eth0' },
      { host: 'eth3', inside: 'eth3' },
    ])
  })

  it('allows a swap of names inside (each host name once, each inside name once)', () => {
    expect(parseNicList('eth2:eth3,eth3:eth2', 'a')).toHaveLength(2)
  })

  const bad: [string, RegExp][] = [
    ['', /is empty/],
    ['  ', /is empty/],
    ['eth2,', /entry 2 is empty/],
    [',eth2', /entry 1 is empty/],
    ['eth2,,eth3', /entry 2 is empty/],
    ['eth2:eth0:x', /more than one ":"/],
    ['eth2:', /inside name "" is not a valid interface name/],
    [':eth0', /host name "" is not a valid interface name/],
    ['eth2,eth2:eth1', /eth2 is listed twice/],
    ['eth2:eth0,eth3:eth0', /eth2 and eth3 would both be "eth0" inside/],
    ['eth2,eth3:eth2', /eth2 and eth3 would both be "eth2" inside/],
    ['averyveryverylongname', /host name "averyveryverylongname" is not a valid/],
    ['eth2:a/b', /inside name "a\/b" is not a valid/],
    ['et h2', /host name "et h2" is not a valid/],
    ['..', /host name "\.\." is not a valid/],
  ]
  for (const [text, msg] of bad) {
    it(`refuses ${JSON.stringify(text)}, naming the source`, () => {
      expect(() => parseNicList(text, 'annotation io.nicback.nics')).toThrow(expect.objectContaining({ code: 'oci' }))
      expect(() => parseNicList(text, 'annotation io.nicback.nics')).toThrow(msg)
      expect(() => parseNicList(text, 'annotation io.nicback.nics')).toThrow(/^annotation io\.nicback\.nics/)
    })
  }
})

describe('declaredNics', () => {
  it('takes the state annotation first, then config.json annotations, then NICBACK_NICS', () => {
    const config = { annotations: { 'io.nicback.nics': 'eth4' }, process: { env: ['PATH=/bin', 'NICBACK_NICS=eth5'] } }
    expect(declaredNics({ annotations: { 'io.nicback.nics': 'eth3' } }, config)).toMatchObject({ give: [{ host: 'eth3' }], giveFrom: 'annotation io.nicback.nics' })
    expect(declaredNics({}, config)).toMatchObject({ give: [{ host: 'eth4' }] })
    expect(declaredNics({}, { process: config.process })).toMatchObject({ give: [{ host: 'eth5' }], giveFrom: 'environment variable NICBACK_NICS' })
  })

  it('reads linux.netDevices: host name -> {name}, name optional', () => {
    const d = declaredNics({}, { linux: { netDevices: { eth2: { name: 'eth0' }, eth3: {} } } })
    expect(d.give).toEqual([])
    expect(d.netDevices).toEqual([
      { host: 'eth2', inside: 'eth0' },
      { host: 'eth3', inside: 'eth3' },
    ])
  })

  it('declares nothing for a plain container', () => {
    expect(declaredNics({}, { process: { env: ['PATH=/bin'] } })).toEqual({ give: [], giveFrom: null, netDevices: [] })
    expect(declaredNics({}, null)).toEqual({ give: [], giveFrom: null, netDevices: [] })
  })

  it('refuses a NIC both moved by nicback and by the runtime', () => {
    expect(() => declaredNics({ annotations: { 'io.nicback.nics': 'eth2' } }, { linux: { netDevices: { eth2: {} } } })).toThrow(/both in annotation io\.nicback\.nics .* and in linux\.netDevices/)
  })

  it('refuses an invalid name in netDevices', () => {
    expect(() => declaredNics({}, { linux: { netDevices: { 'a b': {} } } })).toThrow(/linux\.netDevices: "a b" is not a valid interface name/)
  })

  it('takes the last NICBACK_NICS of the environment, as execve does', () => {
    expect(declaredNics({}, { process: { env: ['NICBACK_NICS=eth1', 'NICBACK_NICS=eth2'] } }).give).toEqual([{ host: 'eth2', inside: 'eth2' }])
  })
})

describe('parseConfig / readBundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nicback-oci-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('reads what nicback needs and lets every other field through', () => {
    const c = parseConfig(JSON.stringify({ ociVersion: '1.0.2', root: { path: 'rootfs' }, linux: { namespaces: [], netDevices: { eth2: { name: 'eth0' } } } }), 'c.json')
    expect(c.linux?.netDevices).toEqual({ eth2: { name: 'eth0' } })
  })

  it('refuses wrong types with the path of the field', () => {
    expect(() => parseConfig(JSON.stringify({ linux: { netDevices: { eth2: { name: 3 } } } }), 'c.json')).toThrow(/c\.json is not an OCI runtime config \(linux\.netDevices\.eth2\.name: /)
    expect(() => parseConfig(JSON.stringify({ process: { env: 'A=1' } }), 'c.json')).toThrow(/process\.env/)
    expect(() => parseConfig('{', 'c.json')).toThrow(/c\.json is not valid JSON/)
  })

  it('says which bundle cannot be read', () => {
    expect(() => readBundle(join(dir, 'nope'))).toThrow(/cannot read the bundle's .*nope\/config\.json: ENOENT/)
  })

  it('reads a bundle', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ process: { env: ['NICBACK_NICS=eth2:eth0'] } }))
    expect(readBundle(dir).process?.env).toEqual(['NICBACK_NICS=eth2:eth0'])
  })
})

describe('parseStage', () => {
  it('knows createRuntime, prestart and poststop, in any case', () => {
    expect(parseStage('createRuntime')).toBe('createRuntime')
    expect(parseStage('createruntime')).toBe('createRuntime')
    expect(parseStage('prestart')).toBe('prestart')
    expect(parseStage('POSTSTOP')).toBe('poststop')
  })
  it('refuses a missing or unknown stage, listing the known ones', () => {
    expect(() => parseStage(undefined)).toThrow(/no stage: give --stage createRuntime\|prestart\|poststop .*NICBACK_HOOK_STAGE/)
    expect(() => parseStage('poststart')).toThrow(/unknown stage "poststart": nicback acts on createRuntime, prestart, poststop/)
  })
})

describe('containerName', () => {
  it('takes a name from the annotations engines set, else none', () => {
    expect(containerName({ 'io.kubernetes.cri.container-name': 'web' })).toBe('web')
    expect(containerName({ 'nerdctl/name': 'db' })).toBe('db')
    expect(containerName({})).toBeUndefined()
    expect(containerName(undefined)).toBeUndefined()
  })
})

describe('netnsMount', () => {
  const mountinfo = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '120 25 0:4 net:[4026532301] /run/netns/other rw shared:60 - nsfs nsfs rw',
    '131 25 0:4 net:[4026532456] /run/docker/netns/1a2b\\040c rw shared:70 - nsfs nsfs rw',
    '140 25 0:4 net:[4026532999] /proc/1/ns rw - proc proc rw',
  ].join('\n')
  it('finds the bind mount of a netns by its inode, unescaping the path', () => {
    expect(netnsMount('net:[4026532456]', mountinfo)).toBe('/run/docker/netns/1a2b c')
    expect(netnsMount('net:[4026532301]', mountinfo)).toBe('/run/netns/other')
  })
  it('finds nothing for a netns that is not mounted, or a mount that is not nsfs', () => {
    expect(netnsMount('net:[1]', mountinfo)).toBeNull()
    expect(netnsMount('net:[4026532999]', mountinfo)).toBeNull()
  })
})
