// How a container declares the NICs nicback gives it: read by the light
// Docker shim (shim.ts, node's fs only) and by the hook (oci.ts).

/** The annotation (podman, CRI-O, `docker run --annotation` since Docker 24). */
export const NICS_ANNOTATION = 'io.nicback.nics'
/** The same list in the container's environment (`docker run -e`, any Docker). */
export const NICS_ENV = 'NICBACK_NICS'

/** The value of NAME=... in an environment list; the last one wins, as in execve. */
export function envValue(env: readonly unknown[] | undefined, name: string): string | undefined {
  let value: string | undefined
  for (const e of env ?? []) if (typeof e === 'string' && e.startsWith(`${name}=`)) value = e.slice(name.length + 1)
  return value
}
