// Writing a file that others read (the registry, the counters, daemon.json,
// the metrics textfile) so that no reader ever sees half of it and a crash
// never loses it: a new file in the same directory, fsync, rename over the
// destination, then an fsync of the directory, without which the rename
// itself is not yet on disk.
//
// Nothing at the destination is ever opened or resolved: the new file is
// made with O_CREAT|O_EXCL|O_NOFOLLOW (never an existing file, never through
// a link), and rename(2) replaces whatever is at the path itself, a symlink
// included, never its target. (write-file-atomic, used before, resolved a
// link at the destination and wrote its target, and gave the new file the
// old one's owner.) The new file is the writer's: a foreign owner is never
// kept.
import { randomBytes } from 'node:crypto'
import { closeSync, constants, fchmodSync, fsyncSync, lstatSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

/** `mode` for the file written; without it the mode of the regular file
 *  there (0666 less the umask when there is none). */
export function writeFileDurably(path: string, text: string, mode?: number): void {
  const dir = dirname(path)
  let keep = mode
  if (keep === undefined) {
    try {
      const st = lstatSync(path)
      if (st.isFile()) keep = st.mode & 0o7777
    } catch {}
  }
  // A name that does not end like the destination (.prom, .json): readers
  // that pick files by name never take half a file.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, keep ?? 0o666)
  try {
    try {
      if (keep !== undefined) fchmodSync(fd, keep)
      const buf = Buffer.from(text, 'utf8')
      for (let n = 0; n < buf.length;) n += writeSync(fd, buf, n, buf.length - n)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
  } catch (err) {
    try {
      unlinkSync(tmp)
    } catch {}
    throw err
  }
  const dirFd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY)
  try {
    fsyncSync(dirFd)
  } finally {
    closeSync(dirFd)
  }
}
