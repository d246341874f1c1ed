// Interface names as the kernel sees them: which ones are valid, which ones
// are the kernel's fallbacks or nicback's own temporary names, and how to
// carry a name a container may have filled with bytes that are not UTF-8.
// Pure; every layer above uses these rules, so they live at the bottom. How
// any name is shown to people is system/printable.ts's, at the output.

/** The kernel's fallback for a returning NIC whose name clashes: dev<ifindex>, or dev%d. */
export const FALLBACK_NAME = /^dev\d+$/
/** nicback's own temporary names, used to break rename cycles and to carry a
 *  NIC out of a container. */
export const TEMP_NAME = /^nbt(mp)?\d+(x\d+)?$/

export function isFallbackName(name: string): boolean {
  return FALLBACK_NAME.test(name) || TEMP_NAME.test(name)
}

/** A name read from udev's environment or its monitor stream, both decoded
 *  as UTF-8: each byte that is not UTF-8 became U+FFFD there, so the name no
 *  longer says which device, and such an event is resolved by its IFINDEX
 *  (the device's name is then read again, as bytes, from the kernel). No
 *  name like it is ever written down. */
export function lostBytes(name: string): boolean {
  return name.includes('\uFFFD')
}

/** IFNAMSIZ - 1. */
export const MAX_NAME_BYTES = 15

/** The bytes the kernel's isspace() accepts (lib/ctype.c: \t \n \v \f \r,
 *  space, and 0xa0, which is also a UTF-8 continuation byte). */
const KERNEL_SPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0])

/** Exactly the kernel's dev_valid_name(), on the name's UTF-8 bytes: 1-15
 *  bytes, not "." or "..", no NUL, '/', ':' or kernel white space. JavaScript's
 *  \s is not the kernel's: U+3000 is valid, U+00A0 (c2 a0) is not. */
export function isValidIfname(name: string): boolean {
  if (name === '' || name === '.' || name === '..') return false
  const bytes = Buffer.from(name, 'utf8')
  if (bytes.length > MAX_NAME_BYTES) return false
  // A lone surrogate cannot come from the kernel and does not survive UTF-8.
  if (bytes.toString('utf8') !== name) return false
  for (const b of bytes) if (b === 0 || b === 0x2f || b === 0x3a || KERNEL_SPACE.has(b)) return false
  return true
}

/** Why `name` is not a valid interface name, for messages. */
export const IFNAME_RULE = '1-15 bytes, not "." or "..", no "/", ":" or white space'

/** A temporary name for device `ifindex`, free in every one of `taken`
 *  (TEMP_NAME matches it, so a run that dies leaves a name the next run
 *  recognises as not a host name). */
export function tempName(ifindex: number, ...taken: { has(name: string): boolean }[]): string {
  const free = (n: string) => taken.every((t) => !t.has(n))
  const base = `nbtmp${ifindex}`
  if (free(base) && base.length <= MAX_NAME_BYTES) return base
  for (let k = 1; ; k++) {
    const n = `nbt${ifindex}x${k}`
    if (free(n)) return n
  }
}

/** Bytes read from the kernel (ip's output, sysfs) as a name: the UTF-8
 *  string when the bytes are UTF-8, else null (the caller addresses such a
 *  device by its ifindex and shows it with `escapeBytes`). */
export function utf8OrNull(bytes: Buffer): string | null {
  const s = bytes.toString('utf8')
  return Buffer.from(s, 'utf8').equals(bytes) ? s : null
}

/** Bytes that are not UTF-8 as a string: \xNN escapes for the bytes >= 0x80
 *  and the control bytes, the rest as they are (printable() leaves such a
 *  string as it is). */
export function escapeBytes(bytes: Buffer): string {
  let out = ''
  for (const b of bytes) out += b >= 0x80 || b < 0x20 || b === 0x7f ? `\\x${b.toString(16).padStart(2, '0')}` : String.fromCharCode(b)
  return out
}
