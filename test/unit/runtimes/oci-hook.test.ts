// The OCI hook's two stages (runtimes/oci-hook.ts), as far as they go before
// a NIC moves: the state on stdin, bounded; what createRuntime checks before
// it acts (every NIC it moves is on the host under its name; a
// linux.netDevices NIC it cannot identify is refused), and poststop's cheap
// first look at the registry. `ip` is never run: the host's links are
// replaced by an empty list.
import { Readable } from 'node:stream'
import { writeFileSync } from 'node:fs'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createRuntime, poststop, readStdin } from '../../../scripts/lib/runtimes/oci-hook.js'
import { MAX_STATE_BYTES, type OciState } from '../../../scripts/lib/runtimes/oci.js'
import { registryPath } from '../../../scripts/lib/system/paths.js'
import { readLinks } from '../../../scripts/lib/facts/links.js'
import { tempBundles, useTempStateDir } from '../helpers.js'

vi.mock('../../../scripts/lib/facts/links.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../scripts/lib/facts/links.js')>()),
  readLinks: vi.fn(() => []),
}))

useTempStateDir()
const { bundleDir } = tempBundles()
const ID = '0123456789abcdef'.repeat(4)
const state = (bundle: string, o: Partial<OciState> = {}): OciState => ({ ociVersion: '1.0.2', id: ID, status: 'creating', bundle, ...o })

describe('readStdin', () => {
  const real = Object.getOwnPropertyDescriptor(process, 'stdin')!
  afterEach(() => Object.defineProperty(process, 'stdin', real))
  function stdin(chunks: Buffer[], isTTY = false): void {
    const s = Object.assign(Readable.from(chunks), { isTTY })
    Object.defineProperty(process, 'stdin', { value: s, configurable: true })
  }

  it('reads the whole state, in chunks, up to MAX_STATE_BYTES', async () => {
    stdin([Buffer.from('{"ociVersion": '), Buffer.from('"1.0.2"}')])
    expect(await readStdin(MAX_STATE_BYTES)).toBe('{"ociVersion": "1.0.2"}')
    stdin([Buffer.alloc(MAX_STATE_BYTES - 1, 0x20), Buffer.from('x')])
    expect(await readStdin(MAX_STATE_BYTES)).toHaveLength(MAX_STATE_BYTES)
  })

  it('more than MAX_STATE_BYTES is an error, not a truncation', async () => {
    stdin([Buffer.alloc(MAX_STATE_BYTES, 0x20), Buffer.from(' ')])
    await expect(readStdin(MAX_STATE_BYTES)).rejects.toThrow(`the container state on stdin is larger than ${MAX_STATE_BYTES} bytes: not an OCI state`)
  })

  it('a terminal: says the hook is for OCI runtimes', async () => {
    stdin([], true)
    await expect(readStdin(MAX_STATE_BYTES)).rejects.toThrow(/^no container state on stdin \(it is a terminal\): "nicback hook" is meant to be run by an OCI runtime/)
  })
})

describe('createRuntime', () => {
  it('a container that declares no NIC: 0, nothing looked at', async () => {
    expect(await createRuntime(state(bundleDir({ process: { env: ['PATH=/bin'] } })), false)).toBe(0)
    expect(readLinks).not.toHaveBeenCalled()
  })

  it('a bundle without config.json: says which file', async () => {
    const dir = bundleDir({})
    await expect(createRuntime(state(`${dir}/missing`), false)).rejects.toThrow(`cannot read the bundle's ${dir}/missing/config.json`)
  })

  it('NICs to move and no pid: cannot find the namespace, names them', async () => {
    const b = bundleDir({ annotations: { 'io.nicback.nics': 'eth8,eth9:net1' } })
    await expect(createRuntime(state(b, { pid: 0 }), false)).rejects.toThrow('the container state has no pid: cannot find the network namespace to move eth8, eth9 into')
  })

  it('a NIC to move that is not on the host: refused before anything moves, naming the list, the container and its name', async () => {
    const b = bundleDir({ process: { env: ['NICBACK_NICS=eth9'] } })
    const st = state(b, { pid: process.pid, annotations: { 'io.kubernetes.cri.container-name': 'web' } })
    await expect(createRuntime(st, false)).rejects.toThrow(/^environment variable NICBACK_NICS of container 0123456789ab \(web\) lists eth9, not in the host's network namespace \(see "nicback status"\)$/)
  })

  it('linux.netDevices naming a NIC neither here nor recorded: refused, says to record the NICs first', async () => {
    const b = bundleDir({ linux: { netDevices: { eth7: { name: 'net0' } } } })
    await expect(createRuntime(state(b), false)).rejects.toThrow(/^linux\.netDevices names eth7, which is not in the host's network namespace and was never recorded: .*"nicback record", done at boot by nicback-record\.service\)$/)
  })
})

describe('poststop', () => {
  it('no registry: nothing recorded, 0', async () => {
    expect(await poststop(state('/nonexistent'), 100)).toBe(0)
  })

  it('a registry that does not mention the id: 0 without reading it further (even one that is not valid)', async () => {
    writeFileSync(registryPath(), '{"format": "nicback-registry", not json', { mode: 0o600 })
    expect(await poststop(state('/nonexistent'), 100)).toBe(0)
  })

  it('a registry that mentions the id is read, and checked', async () => {
    writeFileSync(registryPath(), `{"format": "nicback-registry", "x": ${JSON.stringify(ID)}`, { mode: 0o600 })
    await expect(poststop(state('/nonexistent'), 100)).rejects.toThrow(/is not valid JSON/)
  })
})
