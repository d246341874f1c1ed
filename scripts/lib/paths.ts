// Where nicback's own files are at run time: the folder holding nicback.mjs
// (dist/ in a checkout, /usr/local/lib/nicback once installed), with the udev
// and hook templates copied beside it by the build.
import { realpathSync } from 'node:fs'
import { dirname } from 'node:path'

export function distDir(): string {
  const main = process.argv[1]
  if (main === undefined) throw new Error('cannot tell where nicback is installed (no script path in argv)')
  return dirname(realpathSync(main))
}

/** Absolute path of the node binary running us: what udev and hooks must call. */
export const nodeBin = process.execPath
