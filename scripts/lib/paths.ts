// Where nicback's own files are at run time: the folder holding nicback.mjs
// (dist/ in a checkout, /usr/local/lib/nicback once installed), with the udev
// and hook templates copied beside it by the build.
import { realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'

export function distDir(): string {
  const main = process.argv[1]
  if (main === undefined) throw new Error('cannot tell where nicback is installed (no script path in argv)')
  return dirname(realpathSync(main))
}

/** Absolute path of the node binary running us: what udev and hooks must call. */
export const nodeBin = process.execPath

/** nicback's state: $NICBACK_STATE_DIR, default /var/lib/nicback. Here, not
 *  in registry.ts, so that callers can find the file without loading the
 *  registry's schema (the OCI hook's quick look at poststop). */
export function stateDir(): string {
  return process.env.NICBACK_STATE_DIR || '/var/lib/nicback'
}

export function registryPath(): string {
  return join(stateDir(), 'registry.json')
}
