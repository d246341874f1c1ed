// Whether a build script was run as a program (node scripts/package.mjs),
// not imported by a test: the path node was given is this module's file.
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** `url`: the caller's import.meta.url. */
export function invoked(url) {
  if (process.argv[1] === undefined) return false
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(url))
  } catch {
    return false
  }
}
