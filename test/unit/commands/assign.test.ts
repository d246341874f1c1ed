// nicback assign's command line (the pure parseAssign).
import { describe, expect, test } from 'vitest'
import { parseAssign } from '../../../scripts/commands/assign.js'

describe('nicback assign command line', () => {
  test('one NIC and exactly one of --to, --pid, --netns', () => {
    expect(parseAssign(['ens3', '--to', 'c1', '--as', 'ens4'])).toEqual({ iface: 'ens3', target: { container: { name: 'c1' } }, insideName: 'ens4', force: false, json: false })
    expect(parseAssign(['ens3', '--pid', '4242', '--force', '--json'])).toEqual({ iface: 'ens3', target: { pid: 4242 }, insideName: undefined, force: true, json: true })
    expect(parseAssign(['--netns', '/proc/7/ns/net', 'ens3']).target).toEqual({ netns: '/proc/7/ns/net' })
    expect(parseAssign(['ens3', '--netns', 'ctr']).target).toEqual({ netns: 'ctr' })
  })

  test.each([
    [[], 'name the NIC'],
    [['ens3'], 'say where it goes'],
    [['ens3', 'ens4', '--pid', '1'], 'one NIC at a time'],
    [['ens3', '--pid', '1', '--netns', 'x'], 'give one of --to, --pid, --netns (got --pid, --netns)'],
    [['ens3', '--to', 'c1', '--netns', 'x'], 'got --to, --netns'],
    [['ens3', '--pid', '0'], 'needs a process id'],
    [['ens3', '--pid', '12abc'], 'needs a process id'],
    [['ens3', '--pid', '99999999999999999999'], 'needs a process id'],
    [['ens3', '--to', ''], '--to needs'],
    [['ens3', '--netns', ''], '--netns needs'],
    [['ens3', '--to', 'c1', '--as', 'eth:0'], 'not a valid interface name'],
    [['ens3', '--to', 'c1', '--as', 'a23456789012345x'], 'not a valid interface name'],
    [['ens/3', '--to', 'c1'], 'not a valid interface name'],
    [['ens3', '--to', 'c1', '--nope'], "Unknown option '--nope'"],
    [['ens3', '--to'], "'--to <value>' argument missing"],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseAssign(argv)).toThrow(expect.objectContaining({ code: 'usage' }))
    expect(() => parseAssign(argv)).toThrow(message)
  })
})
