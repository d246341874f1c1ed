// Every typed step's `ip link` command, and how a device is addressed.
import { describe, expect, it } from 'vitest'
import { address, ipArgs } from '../../../scripts/lib/apply/ip.js'

describe('address', () => {
  it('a plain word is its name; anything ip -batch would split, or not a valid name, is if<ifindex>', () => {
    expect(address('ens3', 3)).toBe('ens3')
    expect(address('a b', 7)).toBe('if7')
    expect(address('x#y', 7)).toBe('if7')
    expect(address('a'.repeat(16), 4)).toBe('if4')
  })
})

describe('ipArgs', () => {
  it('one command per step', () => {
    expect(ipArgs({ op: 'altname-del', ifindex: 3, dev: 'dev3', altname: 'ens3' })).toEqual(['link', 'property', 'del', 'dev', 'dev3', 'altname', 'ens3'])
    expect(ipArgs({ op: 'altname-add', ifindex: 3, dev: 'dev3', altname: 'ens3' })).toEqual(['link', 'property', 'add', 'dev', 'dev3', 'altname', 'ens3'])
    expect(ipArgs({ op: 'rename', ifindex: 3, from: 'dev3', to: 'ens3', temporary: false })).toEqual(['link', 'set', 'dev', 'dev3', 'name', 'ens3'])
    expect(ipArgs({ op: 'mac', ifindex: 3, dev: 'ens3', mac: '02:00:00:00:00:01', was: '02:00:00:00:00:02' })).toEqual(['link', 'set', 'dev', 'ens3', 'address', '02:00:00:00:00:01'])
    expect(ipArgs({ op: 'mtu', ifindex: 3, dev: 'ens3', mtu: 9000, was: 1500 })).toEqual(['link', 'set', 'dev', 'ens3', 'mtu', '9000'])
    expect(ipArgs({ op: 'up', ifindex: 3, dev: 'ens3' })).toEqual(['link', 'set', 'dev', 'ens3', 'up'])
    expect(ipArgs({ op: 'down', ifindex: 3, dev: 'ens3' })).toEqual(['link', 'set', 'dev', 'ens3', 'down'])
    // moved and named there in one request
    expect(ipArgs({ op: 'netns', ifindex: 3, dev: 'ens3', to: '/proc/1/fd/9', where: 'container c1', name: 'eth0' })).toEqual(['link', 'set', 'dev', 'ens3', 'netns', '/proc/1/fd/9', 'name', 'eth0'])
    expect(ipArgs({ op: 'netns', ifindex: 3, dev: 'a b', to: '/proc/1/fd/9', where: 'x' })).toEqual(['link', 'set', 'dev', 'if3', 'netns', '/proc/1/fd/9'])
  })
})
