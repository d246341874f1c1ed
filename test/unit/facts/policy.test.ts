// udev's naming policy (facts/policy.ts): the .link file's settings and the
// choice net_setup_link makes. Pure parts.
import { describe, expect, it } from 'vitest'
import { choosePolicyName, namePolicyEnabled, parseLinkNaming } from '../../../scripts/lib/facts/policy.js'
import { dbProperties } from '../../../scripts/lib/facts/udevdb.js'

const DEFAULT_LINK = `# 99-default.link of systemd 252
[Match]
OriginalName=*

[Link]
NamePolicy=keep kernel database onboard slot path
AlternativeNamesPolicy=database onboard slot path
MACAddressPolicy=persistent
`
// what udevd wrote for an igb VF in the VM (kernel 6.12, systemd 252)
const VF_DB = `I:6448294
E:ID_NET_NAMING_SCHEME=v252
E:ID_NET_NAME_PATH=enp1s0v0
E:ID_PATH=pci-0000:01:10.0
E:ID_NET_DRIVER=igbvf
E:ID_NET_LINK_FILE=/usr/lib/systemd/network/99-default.link
E:ID_NET_NAME=enp1s0v0
G:systemd
`

describe('udev naming policy', () => {
  it('the default policy names an igb VF by its path', () => {
    expect(choosePolicyName(parseLinkNaming([DEFAULT_LINK]), dbProperties(VF_DB))).toEqual({ name: 'enp1s0v0', how: 'policy:path' })
  })

  it('the first policy that yields a name wins; keep and kernel yield none here', () => {
    const props = new Map([
      ['ID_NET_NAME_SLOT', 'ens3'],
      ['ID_NET_NAME_PATH', 'enp0s3'],
      ['ID_NET_NAME_ONBOARD', 'eno1'],
    ])
    expect(choosePolicyName({ namePolicy: ['keep', 'kernel', 'slot', 'path'], name: null }, props)).toEqual({ name: 'ens3', how: 'policy:slot' })
    expect(choosePolicyName({ namePolicy: ['onboard', 'slot'], name: null }, props)).toEqual({ name: 'eno1', how: 'policy:onboard' })
  })

  it('Name= applies only when no policy yields a name (systemd.link(5))', () => {
    const naming = parseLinkNaming(['[Match]\nMACAddress=52:54:00:00:00:10\n[Link]\nName=uplink0\n'])
    expect(naming).toEqual({ namePolicy: [], name: 'uplink0' })
    expect(choosePolicyName(naming, new Map([['ID_NET_NAME_PATH', 'enp0s3']]))).toEqual({ name: 'uplink0', how: 'link-file' })
    expect(choosePolicyName({ namePolicy: ['path'], name: 'uplink0' }, new Map([['ID_NET_NAME_PATH', 'enp0s3']]))).toEqual({ name: 'enp0s3', how: 'policy:path' })
  })

  it('a drop-in replaces the file; an empty NamePolicy= clears it; other sections and bad names are not read', () => {
    expect(parseLinkNaming([DEFAULT_LINK, '[Link]\nNamePolicy=\nName=lan0\n'])).toEqual({ namePolicy: [], name: 'lan0' })
    expect(parseLinkNaming(['[Match]\nName=x\n[Link]\n# Name=y\nNamePolicy=mac\n'])).toEqual({ namePolicy: ['mac'], name: null })
    expect(choosePolicyName({ namePolicy: ['path'], name: null }, new Map([['ID_NET_NAME_PATH', 'a/b']]))).toBeNull()
  })

  it('net.ifnames=0 (no policy, no Name=): no answer', () => {
    expect(choosePolicyName({ namePolicy: ['kernel'], name: null }, new Map())).toBeNull()
  })
})

describe('net.ifnames on the kernel command line', () => {
  it('the last net.ifnames word decides; absent or not a boolean: on (systemd proc_cmdline_get_bool)', () => {
    expect(namePolicyEnabled('BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro quiet')).toBe(true)
    expect(namePolicyEnabled('root=/dev/vda1 net.ifnames=0')).toBe(false)
    expect(namePolicyEnabled('net.ifnames=0 biosdevname=0 net.ifnames=1')).toBe(true)
    expect(namePolicyEnabled('net.ifnames=off')).toBe(false)
    expect(namePolicyEnabled('net.ifnames')).toBe(true)
    expect(namePolicyEnabled('net.ifnames=maybe')).toBe(true)
    expect(namePolicyEnabled('xnet.ifnames=0 net.ifnames.x=0')).toBe(true)
  })

  it('off: NamePolicy= gives no name, Name= still does (link_config_generate_new_name)', () => {
    const props = new Map([['ID_NET_NAME_PATH', 'enp0s3']])
    expect(choosePolicyName({ namePolicy: ['path'], name: null }, props, false)).toBeNull()
    expect(choosePolicyName({ namePolicy: ['path'], name: 'uplink0' }, props, false)).toEqual({ name: 'uplink0', how: 'link-file' })
    expect(choosePolicyName({ namePolicy: ['path'], name: null }, props, true)).toEqual({ name: 'enp0s3', how: 'policy:path' })
  })
})
