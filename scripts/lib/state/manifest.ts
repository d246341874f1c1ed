// What `nicback install` wrote, so that `uninstall` removes exactly that:
// /var/lib/nicback/install.json. Checked before it drives any removal: only
// paths install itself writes are ever removed.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as v from 'valibot'
import { nicbackError } from '../system/errors.js'

export const LIB = '/usr/local/lib/nicback'
export const BIN = '/usr/local/sbin/nicback'
export const RULES = '/etc/udev/rules.d/81-nicback.rules'
export const UNIT = '/etc/systemd/system/nicback-record.service'
export const UNIT_WANTS = '/etc/systemd/system/multi-user.target.wants/nicback-record.service'
export const MANIFEST = '/var/lib/nicback/install.json'
export const RUNTIME_BIN = '/usr/local/sbin/nicback-runtime'
/** The hooks directory podman and CRI-O read by default. oci-hooks(5) also
 *  names /etc/containers/oci/hooks.d, but podman 4.3 (Debian 12) reads it
 *  only when containers.conf's hooks_dir says so (seen in the VM tier). */
export const HOOKS_D = '/usr/share/containers/oci/hooks.d'
/** oci-hooks(5) files in hooks/: a hook file gives the same args to all its
 *  stages, and the hook must know its stage, so one file per stage. */
export const HOOK_FILES = {
  annotation: ['50-nicback-createruntime.json', '50-nicback-poststop.json'],
  always: ['50-nicback-always-createruntime.json', '50-nicback-always-poststop.json'],
}

export interface DockerNote {
  /** daemon.json's path below the install root. */
  path: string
  runtime: string
  createdFile: boolean
  createdRuntimes: boolean
  /** What nicback's key replaced where it is the only thing: the whitespace
   *  inside the empty object it went into (`{ }`), or the whole text of a
   *  file that held only whitespace; given back when the key goes. Absent:
   *  nothing (`{}`, or no file). */
  empty?: string | undefined
}

export interface Manifest {
  files: string[]
  /** The key added to daemon.json by --docker. */
  docker?: DockerNote | undefined
}

/** Every path install may write; nothing else is removed. */
export function installedPaths(): string[] {
  return [LIB, BIN, RULES, UNIT, UNIT_WANTS, RUNTIME_BIN, ...[...HOOK_FILES.annotation, ...HOOK_FILES.always].map((f) => `${HOOKS_D}/${f}`)]
}

const ManifestSchema = v.object({
  files: v.array(
    v.pipe(
      v.string(),
      v.check((f) => installedPaths().includes(f), 'is not a path nicback install writes'),
    ),
  ),
  docker: v.optional(v.object({ path: v.literal('/etc/docker/daemon.json'), runtime: v.string(), createdFile: v.boolean(), createdRuntimes: v.boolean(), empty: v.optional(v.pipe(v.string(), v.regex(/^[ \t\r\n]*$/, 'is not JSON whitespace'))) })),
})

export function readManifest(root: string): Manifest {
  const path = join(root, MANIFEST)
  if (!existsSync(path)) return { files: [] }
  let data: unknown
  try {
    data = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw nicbackError('manifest', 'read the install manifest', `${path} is not valid JSON (${(err as Error).message})`, { fix: 'nothing removed: remove nicback\'s files by hand (see "nicback install --help") or move it aside' })
  }
  const r = v.safeParse(ManifestSchema, data)
  if (!r.success) {
    const where = r.issues
      .slice(0, 3)
      .map((i) => `${v.getDotPath(i) ?? '(top)'}: ${i.message}`)
      .join('; ')
    throw nicbackError('manifest', 'read the install manifest', `${path} is not nicback's install manifest (${where})`, { fix: 'nothing removed: remove nicback\'s files by hand (see "nicback install --help") or move it aside' })
  }
  return r.output as Manifest
}
