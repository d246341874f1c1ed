// `udevadm monitor --udev --property` output, read as a stream: the events
// udevd sends out after its rules ran (the device named, its altnames set).
// One event a block: a header line, KEY=VALUE lines, a blank line. Values
// come from devices a container controlled a moment ago, so only the keys
// nicback uses are kept, a block that says a key twice is dropped, and the
// header must agree with the properties. The stream is decoded as UTF-8: a
// name that is not UTF-8 arrives with U+FFFD in it (names.ts lostBytes), and
// the event is resolved by its IFINDEX, as the udev rule's own events are.

/** The properties nicback reads from an event (DEVPATH_OLD: a move's name
 *  before, how the agent sees a mover's rename on the host). */
const KEYS = new Set(['ACTION', 'DEVPATH', 'DEVPATH_OLD', 'SUBSYSTEM', 'INTERFACE', 'IFINDEX', 'SEQNUM', 'USEC_INITIALIZED'])
const HEADER = /^UDEV {1,2}\[\d+\.\d+\] +(\S+) +(\S+) \((\S+)\)$/

export type MonitorItem = { event: Record<string, string> } | { dropped: string }

/** Pure: one block's lines to the event's properties, or why it was dropped. */
export function parseMonitorBlock(lines: readonly string[]): MonitorItem | null {
  if (lines.length === 0) return null
  const head = HEADER.exec(lines[0]!)
  // udevadm's own banner ("monitor will print...") and anything else
  if (head === null) return null
  const event: Record<string, string> = {}
  const seen = new Set<string>()
  for (const line of lines.slice(1)) {
    const eq = line.indexOf('=')
    if (eq <= 0) return { dropped: 'a property line without "="' }
    const key = line.slice(0, eq)
    if (seen.has(key)) return { dropped: `${key} given twice` }
    seen.add(key)
    if (KEYS.has(key)) event[key] = line.slice(eq + 1)
  }
  if (event.ACTION !== head[1] || event.DEVPATH !== head[2] || event.SUBSYSTEM !== head[3]) return { dropped: 'the header does not match the properties' }
  // --subsystem-match=net: anything else is not for us
  if (event.SUBSYSTEM !== 'net') return null
  return { event }
}

/** Splits a byte stream into blocks; `push` returns the items complete so far. */
export class MonitorStream {
  private rest = ''
  private block: string[] = []

  push(chunk: string): MonitorItem[] {
    const text = this.rest + chunk
    const lines = text.split('\n')
    this.rest = lines.pop()!
    const items: MonitorItem[] = []
    for (const line of lines) {
      if (line !== '') {
        // a line no sane event has: cap it so a flood cannot grow memory
        if (this.block.length < 64) this.block.push(line.length > 4096 ? line.slice(0, 4096) : line)
        continue
      }
      const item = parseMonitorBlock(this.block)
      this.block = []
      if (item !== null) items.push(item)
    }
    if (this.rest.length > 65536) this.rest = ''
    return items
  }
}
