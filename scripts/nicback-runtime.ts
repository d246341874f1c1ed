// nicback-runtime: an OCI runtime shim for Docker, registered by `nicback
// install --docker` under "runtimes" in /etc/docker/daemon.json. On `create`
// (and `run`) it adds nicback's hooks to the bundle's config.json when the
// container declares NICs (annotation io.nicback.nics, or NICBACK_NICS in its
// environment); then it runs the real runtime with the same arguments. Every
// other call passes through untouched.
//
//   docker run --runtime nicback --network none -e NICBACK_NICS=eth2:eth0 IMAGE
//
// The runtime: `--nicback-runtime PATH` first in argv (daemon.json
// "runtimeArgs"), else $NICBACK_RUNTIME, else runc. node has no execve, so the
// runtime runs as a child with our stdio (and the descriptors --preserve-fds
// hands on), and its exit status or signal becomes ours.
import { spawnSync, type StdioOptions } from 'node:child_process'
import { appendFileSync } from 'node:fs'
import { constants } from 'node:os'
import { quietPipes } from './lib/cli/pipes.js'
import { editBundle, HOOK_BIN, parseRuntimeArgv, resolveRuntime, type RuntimeArgv } from './lib/runtimes/shim.js'
import { jsonText, printable } from './lib/system/printable.js'

/** Says why on stderr, and in runc's --log file, where containerd looks;
 *  returns 1 (failed), or `code`. */
function fail(msg: string, argv: RuntimeArgv | null, code = 1): number {
  process.stderr.write(`nicback-runtime: ${printable(msg)}\n`)
  if (argv?.log) {
    try {
      const line = argv.logFormat === 'json' ? jsonText({ level: 'error', msg: `nicback-runtime: ${msg}`, time: new Date().toISOString() }) : `nicback-runtime: ${printable(msg)}`
      appendFileSync(argv.log, `${line}\n`)
    } catch {
      // stderr has it
    }
  }
  return code
}

function main(): number {
  let argv: RuntimeArgv
  try {
    argv = parseRuntimeArgv(process.argv.slice(2))
  } catch (err) {
    // Its own arguments (--nicback-runtime, --preserve-fds...) badly given: bad usage.
    return fail((err as Error).message, null, 2)
  }
  if (argv.command === 'create' || argv.command === 'run') {
    try {
      editBundle(argv.bundle ?? process.cwd(), process.env.NICBACK_HOOK_BIN || HOOK_BIN)
    } catch (err) {
      return fail((err as Error).message, argv)
    }
  }
  const runtime = resolveRuntime(argv.runtime)
  const stdio: StdioOptions = ['inherit', 'inherit', 'inherit']
  for (let fd = 3; fd < 3 + argv.preserveFds; fd++) stdio.push(fd)
  const r = spawnSync(runtime, argv.args, { stdio })
  if (r.error) return fail(`cannot run the runtime ${runtime}: ${r.error.message}`, argv) + 126
  if (r.signal !== null) {
    // Die of the same signal, so the caller sees what the runtime did.
    process.kill(process.pid, r.signal)
    return 128 + (constants.signals[r.signal] ?? 0)
  }
  return r.status ?? 1
}

// A closed stderr (the caller gone) must not turn the runtime's status into a stack trace.
quietPipes()
process.exitCode = main()
