// nicback: gives physical NICs their host names back when they return from a
// container's network namespace. A thin shell: each command is its own module,
// loaded only when asked for, so the udev hot path loads no more than it uses.
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runCommand, type Command } from './lib/cli/cli.js'
import { printable } from './lib/system/printable.js'

export const VERSION = '0.1.0'

const COMMANDS: Record<string, () => Promise<{ default: Command }>> = {
  status: () => import('./commands/status.js'),
  metrics: () => import('./commands/metrics.js'),
  record: () => import('./commands/record.js'),
  restore: () => import('./commands/restore.js'),
  forget: () => import('./commands/forget.js'),
  demo: () => import('./commands/demo.js'),
  install: () => import('./commands/install.js'),
  uninstall: () => import('./commands/uninstall.js'),
  assign: () => import('./commands/assign.js'),
  release: () => import('./commands/release.js'),
  udev: () => import('./commands/udev.js'),
  hook: () => import('./commands/hook.js'),
  watch: () => import('./commands/watch.js'),
}

const USAGE = `Usage: nicback COMMAND [OPTIONS]

Gives every physical NIC its host name back when it returns from a
container's network namespace (instead of devN or the name it had inside).

Commands:
@COMMANDS@
Run "nicback COMMAND --help" for a command's options. Every command takes
--json for machine-readable output.

Environment:
  NICBACK_STATE_DIR  where the registry lives (default /var/lib/nicback)

Exit status: 0 done, 1 failed (the message says which NIC and why), 2 bad usage.
`

async function usage(): Promise<string> {
  const lines = await Promise.all(
    Object.entries(COMMANDS)
      .filter(([name]) => name !== 'udev')
      .map(async ([name, load]) => `  ${name.padEnd(10)} ${(await load()).default.summary}`),
  )
  return USAGE.replace('@COMMANDS@', lines.join('\n'))
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const sub = name === 'help' ? rest[0] : undefined
    if (sub !== undefined && COMMANDS[sub]) {
      process.stdout.write((await COMMANDS[sub]()).default.help)
      return 0
    }
    process.stdout.write(await usage())
    return name === undefined ? 2 : 0
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`nicback ${VERSION}\n`)
    return 0
  }
  const load = COMMANDS[name]
  if (load === undefined) {
    process.stderr.write(`nicback: unknown command "${printable(name)}"\nRun "nicback --help" for the list of commands.\n`)
    return 2
  }
  const cmd = (await load()).default
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.help)
    return 0
  }
  return runCommand(name, cmd, rest)
}

function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (err) => {
      process.stderr.write(`nicback: ${printable(err instanceof Error ? err.message : String(err))}\n`)
      process.exitCode = 1
    },
  )
}
