// How a container declares the NICs nicback gives it (runtimes/declare.ts):
// the annotation's and the variable's names, and a variable's value in an
// environment list as execve sees it.
import { describe, expect, it } from 'vitest'
import { envValue, NICS_ANNOTATION, NICS_ENV } from '../../../scripts/lib/runtimes/declare.js'

describe('the names', () => {
  it('are those the README and `docker run` use', () => {
    expect(NICS_ANNOTATION).toBe('io.nicback.nics')
    expect(NICS_ENV).toBe('NICBACK_NICS')
  })
})

describe('envValue', () => {
  it('the value after NAME=, kept as it is (an = in it, spaces, empty)', () => {
    expect(envValue(['PATH=/bin', 'NICBACK_NICS=eth2:eth0'], NICS_ENV)).toBe('eth2:eth0')
    expect(envValue(['NICBACK_NICS=a=b '], NICS_ENV)).toBe('a=b ')
    expect(envValue(['NICBACK_NICS='], NICS_ENV)).toBe('')
  })

  it('the last one wins, as in execve', () => {
    expect(envValue(['NICBACK_NICS=eth1', 'X=1', 'NICBACK_NICS=eth2'], NICS_ENV)).toBe('eth2')
  })

  it('only NAME= itself: not a longer name, not NAME without =, not a non-string', () => {
    expect(envValue(['NICBACK_NICS_X=eth1', 'XNICBACK_NICS=eth2', 'NICBACK_NICS', 42, null, { NICBACK_NICS: 'eth3' }], NICS_ENV)).toBeUndefined()
  })

  it('no environment: undefined', () => {
    expect(envValue(undefined, NICS_ENV)).toBeUndefined()
    expect(envValue([], NICS_ENV)).toBeUndefined()
  })
})
