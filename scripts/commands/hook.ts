// `nicback hook`: the OCI runtime hook. Parses the stage, the timeout and the
// state on stdin, then runs the stage (runtimes/oci-hook.ts). Everything is
// checked before anything is done; a failure says why on stderr (which the
// runtime reports) and in syslog, never with a stack trace.
import { parse, parseSeconds, type Command, type Options } from '../lib/cli/cli.js'
import { createRuntime, poststop, readStdin } from '../lib/runtimes/oci-hook.js'
import { MAX_STATE_BYTES, parseStage, parseState, STAGES, type Stage } from '../lib/runtimes/oci.js'
import { log, logToSyslog } from '../lib/system/log.js'
import { isNicbackError, nicbackError, toFields } from '../lib/system/errors.js'

const help = `Usage: nicback hook --stage STAGE [--timeout SEC] [--force]

Run by an OCI runtime (runc, crun) at a container's edges, with the
container's state (runtime-spec: ociVersion, id, status, pid, bundle,
annotations) on stdin. The stage comes from --stage or NICBACK_HOOK_STAGE,
because the runtime does not say it:

  createRuntime  (or the deprecated prestart) the NICs the container declares
                 leave the host:
                 - annotation io.nicback.nics, or NICBACK_NICS in the
                   container's environment: "eth2:eth0,eth3" (host name,
                   optional name inside). nicback records each NIC, moves it
                   into the container's network namespace (/proc/PID/ns/net)
                   and names it there; if one cannot be moved, those moved
                   before are brought back and the hook fails.
                 - linux.netDevices of the bundle's config.json: the runtime
                   moves them; nicback records them.
                 A container that declares none costs one read of config.json.
  poststop       every NIC recorded against this container id comes home
                 under its host name, with its MAC, MTU and admin state: taken
                 straight out of the container's network namespace when that
                 outlives the container (Docker keeps it under a bind mount
                 until after the runtime's delete), else once the kernel has
                 handed it back (waits at most --timeout, default
                 NICBACK_HOOK_TIMEOUT or 10 s). Nothing to do when udev's rule
                 got there first.

  --timeout SEC  poststop: how long to wait for the NICs to come back
  --force        createRuntime: move a NIC the checks of "nicback assign"
                 refuse without --force (a virtual device, one that carries
                 the host's default route or addresses, one recorded as away)

Installed by "nicback install" as oci-hooks(5) files in
/usr/share/containers/oci/hooks.d (podman, CRI-O), and added to config.json by
nicback-runtime (Docker: "nicback install --docker"). Logs to syslog under
the tag "nicback".

Exit status: 0 done (or nothing to do), 1 failed (the message says which NIC
and why; nothing is left half-moved or half-renamed), 2 bad usage (an
option, or the stage missing or unknown).
`

const options = { stage: { type: 'string' }, timeout: { type: 'string' }, force: { type: 'boolean' } } satisfies Options

/** The stage, from --stage or NICBACK_HOOK_STAGE: a missing or unknown one
 *  is bad usage (exit 2), as a bad option is. */
function stageOf(value: string | undefined): Stage {
  try {
    return parseStage(value)
  } catch (err) {
    throw isNicbackError(err, 'oci') ? nicbackError('usage', 'hook', err.message) : err
  }
}

export default {
  summary: 'OCI runtime hook: NICs leave at createRuntime, come home at poststop',
  help,
  options,
  choices: { stage: STAGES },
  // Not before it has work: rootless podman runs the hooks of every
  // container as the user, and a container that declares no NIC costs one
  // quick exit 0 (a NIC it declares fails on the state directory, saying why).
  root: null,
  async main(argv) {
    logToSyslog()
    const { values } = parse(argv, options, false)
    const raw = values.timeout ?? process.env.NICBACK_HOOK_TIMEOUT
    const waitMs = raw === undefined || raw === '' ? 10_000 : Math.round(parseSeconds(raw, values.timeout !== undefined ? '--timeout' : 'NICBACK_HOOK_TIMEOUT') * 1000)
    const stage = stageOf(values.stage ?? process.env.NICBACK_HOOK_STAGE)
    const state = parseState(await readStdin(MAX_STATE_BYTES))
    try {
      return stage === 'poststop' ? await poststop(state, waitMs) : await createRuntime(state, values.force === true)
    } catch (err) {
      if (isNicbackError(err, 'oci')) {
        log.error(`hook ${stage}: ${err.message}`, { ...toFields(err), stage })
        return 1
      }
      throw err
    }
  },
} satisfies Command
