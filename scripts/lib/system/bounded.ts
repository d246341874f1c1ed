// Reading a file someone else put in place (a bundle's config.json) without
// letting it hang or flood the reader: opened non-blocking (a FIFO there
// opens at once and is refused, never read), regular files only, at most
// `max` bytes. Node's fs only: the Docker shim loads it on every create.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { nicbackError } from './errors.js'

/** Reads at most `max` bytes of a regular file; more is an error, not a truncation. */
export function readBounded(path: string, max: number): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY)
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw nicbackError('bounded_read', 'read a file', `${path} is not a regular file`)
    const size = st.size
    if (size > max) throw nicbackError('bounded_read', 'read a file', `${path} is ${size} bytes, more than the ${max} nicback reads`)
    const buf = Buffer.alloc(Math.min(size, max) + 1)
    let n = 0
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0;) n += r
    if (n > max) throw nicbackError('bounded_read', 'read a file', `${path} is larger than the ${max} bytes nicback reads`)
    return buf.subarray(0, n).toString('utf8')
  } finally {
    closeSync(fd)
  }
}
