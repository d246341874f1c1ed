// The kernel's name rules: valid names, fallback and temporary names.
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it, test } from 'vitest'
import { FALLBACK_NAME, isFallbackName, isValidIfname, TEMP_NAME, tempName } from '../../../scripts/lib/facts/names.js'

describe('isValidIfname / isFallbackName', () => {
  it("follows the kernel's dev_valid_name()", () => {
    for (const ok of ['eth0', 'a', 'enp0s31f6', 'x'.repeat(15), 'wlan-0_1.2', 'é'.repeat(7)]) expect(isValidIfname(ok), ok).toBe(true)
    for (const bad of ['', '.', '..', 'x'.repeat(16), 'é'.repeat(8), 'a/b', 'a:b', 'a b', 'a\tb', 'a\nb']) expect(isValidIfname(bad), bad).toBe(false)
  })

  it('knows the kernel fallback and nicback temporary names', () => {
    for (const n of ['dev3', 'dev123', 'nbtmp7', 'nbt7x1', 'nbt12x30']) expect(isFallbackName(n), n).toBe(true)
    for (const n of ['eth0', 'devA', 'dev', 'xdev3', 'nbtmp', 'nbtmp7y', 'ens3']) expect(isFallbackName(n), n).toBe(false)
  })
})

describe('tempName', () => {
  test('temporary names: nbtmp<ifindex>, free on both sides, at most 15 bytes', () => {
    expect(tempName(7, new Set())).toBe('nbtmp7')
    expect(tempName(7, new Set(['nbtmp7']))).toBe('nbt7x1')
    expect(tempName(7, new Set(['nbtmp7', 'nbt7x1']))).toBe('nbt7x2')
    expect(tempName(1234567890, new Set())).toBe('nbtmp1234567890')
    expect(tempName(12345678901, new Set())).toBe('nbt12345678901x1')
  })
})

// The udev front sorts move events with a glob of its own (the shell cannot
// call isFallbackName): every name nicback treats as a fallback or temporary
// name must pass it, or the kernel's `move` into devN on 6.1 would only be
// noted as a rename and start nothing.
describe("the udev front's move filter", () => {
  const front = readFileSync(new URL('../../../udev/nicback-udev-front.sh', import.meta.url), 'utf8')
  const pattern = /^\s*case \$INTERFACE in\n\s*([^)\n]+)\) ;;$/m.exec(front)?.[1]
  /** the shell's fnmatch, for the two forms the front uses: [0-9] and *. */
  const globs = (pattern ?? '').split('|').map((g) => new RegExp(`^${g.trim().replace(/\*/g, '.*')}$`))
  const passes = (name: string) => globs.some((g) => g.test(name))

  it('is there, and sorts a rename home (no devN, no temporary name) as a rename to note', () => {
    expect(pattern, front).toBeDefined()
    for (const n of ['enp1s0v0', 'ens3', 'eth0', 'device0']) expect(passes(n), n).toBe(false)
  })

  it('passes every kernel fallback and nicback temporary name to the front', () => {
    fc.assert(fc.property(fc.oneof(fc.stringMatching(FALLBACK_NAME), fc.stringMatching(TEMP_NAME)), (name) => passes(name)))
    for (let ifindex = 1; ifindex < 70000; ifindex *= 7) expect(passes(tempName(ifindex, new Set())), String(ifindex)).toBe(true)
  })
})

// The rule skips a rename *from* a fallback or temporary name into a plain
// one (nicback's restores): such a name stops the hand-over walk anyway.
// Its globs must match every name isFallbackName accepts, as the old name,
// and must not match a plain name.
describe("81-nicback.rules' filter of renames from a fallback name", () => {
  const rule = readFileSync(new URL('../../../udev/81-nicback.rules', import.meta.url), 'utf8')
  const m = /^ACTION=="move", ENV\{DEVPATH_OLD\}=="([^"]+)", KERNEL!="([^"]+)", GOTO="nicback_end"$/m.exec(rule)
  const globs = (pattern: string) => pattern.split('|').map((g) => new RegExp(`^${g.replace(/\*/g, '.*').replace(/\[0-9\]/g, '[0-9]')}$`))
  const matches = (pattern: string, s: string) => globs(pattern).some((g) => g.test(s))
  const VF = '/devices/pci0000:00/0000:00:10.0/0000:01:10.0/net'

  it('is there: a rename from a plain name still reaches the front, so does one into a fallback name', () => {
    expect(m, rule).not.toBeNull()
    for (const n of ['enp1s0v0', 'ens3', 'eth0', 'device0', 'net1']) expect(matches(m![1]!, `${VF}/${n}`), n).toBe(false)
    for (const n of ['dev3', 'nbtmp3']) expect(matches(m![2]!, n), n).toBe(true)
  })

  it('every kernel fallback and nicback temporary name, as the old name, is skipped', () => {
    fc.assert(fc.property(fc.oneof(fc.stringMatching(FALLBACK_NAME), fc.stringMatching(TEMP_NAME)), (name) => matches(m![1]!, `${VF}/${name}`) && matches(m![2]!, name)))
  })
})
