// Writing a file that others read (the registry, daemon.json) so that no
// reader ever sees half of it and a crash never loses it: write-file-atomic
// (temp file in the same directory, fsync, rename), then an fsync of the
// directory, without which the rename itself is not yet on disk.
import { closeSync, fsyncSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import writeFileAtomic from 'write-file-atomic'

/** `mode` for a new file; without it an existing file keeps its own. */
export function writeFileDurably(path: string, text: string, mode?: number): void {
  writeFileAtomic.sync(path, text, { fsync: true, ...(mode === undefined ? {} : { mode }) })
  const dir = openSync(dirname(path), 'r')
  try {
    fsyncSync(dir)
  } finally {
    closeSync(dir)
  }
}
