// The kernel port's reading of ip's answers: strerror words to errnos, once.
import { describe, expect, it } from 'vitest'
import { errnoOf, hostKernel } from '../../../scripts/lib/apply/kernel.js'

describe('errnoOf', () => {
  it.each([
    ['RTNETLINK answers: File exists', 'EEXIST'],
    ['RTNETLINK answers: Device or resource busy', 'EBUSY'],
    ['Cannot find device "dev3"', 'ENODEV'],
    ['RTNETLINK answers: No such device', 'ENODEV'],
    ['RTNETLINK answers: Operation not permitted', 'EOTHER'],
    ['', 'EOTHER'],
  ] as const)('%s -> %s', (text, errno) => expect(errnoOf(text)).toBe(errno))
})

describe('hostKernel', () => {
  it('is one per process: what the kernel taught (renameWhileUp) holds for every run', () => {
    const k = hostKernel()
    expect(hostKernel()).toBe(k)
    expect(typeof k.renameWhileUp).toBe('boolean')
  })
})
