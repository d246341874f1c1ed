// The name udev's own naming policy gives a NIC: what the host would call
// it, from facts a container cannot forge. udevd records, for every network
// device it handled, which .link file applied (ID_NET_LINK_FILE, and its
// drop-ins) and the names each policy yields (ID_NET_NAME_ONBOARD, _SLOT,
// _PATH, _MAC, _FROM_DATABASE), computed from the device's bus position and
// permanent properties. net_setup_link then takes the first policy of the
// file's NamePolicy= that yields a name, and Name= only when none does
// (systemd.link(5)). Here the same order, without `keep` (a NIC back from a
// container keeps a name that is not the host's) and without `kernel` (the
// kernel's predictable name of a device that has been renamed since cannot
// be read any more). `net.ifnames=0` on the kernel's command line turns
// NamePolicy= off (udevd's enable_name_policy); Name= still applies.
import { readFileSync, statSync } from 'node:fs'
import { isValidIfname } from './names.js'
import { udevProperties } from './udevdb.js'

/** Where udev reads .link files from (systemd.link(5)); a file named
 *  anywhere else is not read. */
const LINK_DIRS = ['/etc/systemd/network/', '/run/systemd/network/', '/usr/local/lib/systemd/network/', '/usr/lib/systemd/network/', '/lib/systemd/network/']

const POLICY_PROPERTY: Record<string, string> = {
  database: 'ID_NET_NAME_FROM_DATABASE',
  onboard: 'ID_NET_NAME_ONBOARD',
  slot: 'ID_NET_NAME_SLOT',
  path: 'ID_NET_NAME_PATH',
  mac: 'ID_NET_NAME_MAC',
}

/** The [Link] section's naming settings, as udev reads them. */
export interface LinkNaming {
  namePolicy: string[]
  name: string | null
}

/** Pure: NamePolicy= and Name= of the [Link] section of .link file texts,
 *  read in order (a drop-in after its file): a later assignment replaces an
 *  earlier one, an empty NamePolicy= clears the list. */
export function parseLinkNaming(texts: readonly string[]): LinkNaming {
  const out: LinkNaming = { namePolicy: [], name: null }
  for (const text of texts) {
    let section = ''
    for (const raw of text.split('\n')) {
      const line = raw.trim()
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
      const sec = /^\[(.+)\]$/.exec(line)
      if (sec) {
        section = sec[1]!
        continue
      }
      if (section !== 'Link') continue
      const kv = /^([A-Za-z]+)\s*=\s*(.*)$/.exec(line)
      if (!kv) continue
      if (kv[1] === 'NamePolicy') out.namePolicy = kv[2]!.split(/\s+/).filter((p) => p !== '')
      else if (kv[1] === 'Name') out.name = kv[2]! === '' ? null : kv[2]!
    }
  }
  return out
}

/** The name the policy gives, and which policy gave it. */
export interface PolicyName {
  name: string
  /** `policy:path`, `policy:slot`... or `link-file` for Name=. */
  how: string
}

/** Pure: whether udevd applies NamePolicy=, from the kernel's command line:
 *  the last `net.ifnames` word decides; absent, or a value that is not a
 *  boolean, means yes (systemd's proc_cmdline_get_bool and parse_boolean). */
export function namePolicyEnabled(cmdline: string): boolean {
  let enabled = true
  for (const word of cmdline.trim().split(/\s+/)) {
    const m = /^net\.ifnames(?:=(.*))?$/.exec(word)
    if (m === null) continue
    const value = (m[1] ?? '1').toLowerCase()
    if (['0', 'no', 'n', 'false', 'f', 'off'].includes(value)) enabled = false
    else if (['1', 'yes', 'y', 'true', 't', 'on'].includes(value)) enabled = true
  }
  return enabled
}

function kernelCmdline(): string {
  try {
    return readFileSync('/proc/cmdline', 'utf8')
  } catch {
    return ''
  }
}

/** Pure: net_setup_link's choice for a device with udev properties `props`;
 *  `enabled`: NamePolicy= applies (namePolicyEnabled). */
export function choosePolicyName(naming: LinkNaming, props: ReadonlyMap<string, string>, enabled = true): PolicyName | null {
  for (const policy of enabled ? naming.namePolicy : []) {
    const prop = POLICY_PROPERTY[policy]
    const name = prop === undefined ? undefined : props.get(prop)
    if (name !== undefined && isValidIfname(name)) return { name, how: `policy:${policy}` }
  }
  return naming.name !== null && isValidIfname(naming.name) ? { name: naming.name, how: 'link-file' } : null
}

function readLinkFile(path: string): string | null {
  if (!LINK_DIRS.some((d) => path.startsWith(d)) || path.includes('/../')) return null
  try {
    const st = statSync(path)
    // root's configuration: a regular file no one else can write
    if (!st.isFile() || st.uid !== 0 || (st.mode & 0o022) !== 0 || st.size > 65536) return null
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/** The name udev's naming policy gives device `ifindex` of the host's
 *  network namespace, from udev's database; null when udev has no entry for
 *  it, no .link file applied, or no policy yields a name and the file sets
 *  no Name= (a host naming by kernel enumeration only: `net.ifnames=0`, or
 *  a .link file with an empty NamePolicy=). */
export function policyName(ifindex: number): PolicyName | null {
  const props = udevProperties(ifindex)
  const file = props?.get('ID_NET_LINK_FILE')
  if (props === null || file === undefined) return null
  const texts = [file, ...(props.get('ID_NET_LINK_FILE_DROPINS')?.split(':') ?? [])].map(readLinkFile)
  if (texts[0] === null) return null
  return choosePolicyName(parseLinkNaming(texts.filter((t): t is string => t !== null)), props, namePolicyEnabled(kernelCmdline()))
}
