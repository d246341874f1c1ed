// The kernel's name rules: valid names, fallback and temporary names.
import { describe, expect, it, test } from 'vitest'
import { isFallbackName, isValidIfname, tempName } from '../../../scripts/lib/facts/names.js'

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
