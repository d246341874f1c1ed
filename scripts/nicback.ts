// nicback: gives physical NICs their host names back when they return from a
// container's network namespace. A thin shell: each command is its own module,
// loaded only when asked for, so the udev hot path loads no more than it uses.
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse, runCommand, type Command } from './lib/cli/cli.js'
import { bashCompletion } from './lib/cli/completion.js'
import { quietPipes } from './lib/cli/pipes.js'
import { didYouMean } from './lib/cli/suggest.js'
import { printable } from './lib/system/printable.js'

export { VERSION } from './lib/system/version.js'
import { VERSION } from './lib/system/version.js'
import { nicbackError } from './lib/system/errors.js'

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
  completion: async () => ({ default: completion }),
}
/** Run by udev's rule, not by people: not in the help, the completion or a
 *  "did you mean". */
const HIDDEN = new Set(['udev'])
const listed = () => Object.keys(COMMANDS).filter((name) => !HIDDEN.has(name))

/** The shell completion, from this table and each command's options (the
 *  source of the help's command list and of what parse() accepts). */
export async function completionScript(): Promise<string> {
  const commands = await Promise.all(listed().map(async (name) => ({ name, ...(await COMMANDS[name]!()).default })))
  return bashCompletion({ program: 'nicback', global: ['--help', '--version'], commands })
}

const completion: Command = {
  summary: 'print the bash completion script (commands, their options, NIC names)',
  help: `Usage: nicback completion bash

Prints a bash completion script for nicback: the commands, each command's
options, the values of --stage, file names for options that take a path,
and network interface names where a command takes NICs. Made from the same
table as "nicback --help" and the options each command accepts. Load it
with

  source <(nicback completion bash)

or install it as /usr/share/bash-completion/completions/nicback (the build
writes it to dist/nicback.bash-completion).
`,
  options: {},
  args: ['bash'],
  root: null,
  async main(argv) {
    const { positionals } = parse(argv, {})
    if (positionals.length !== 1) throw nicbackError('usage', 'parse the command line', 'name the shell: bash')
    if (positionals[0] !== 'bash') throw nicbackError('usage', 'parse the command line', `no completion for "${positionals[0]}": only bash`)
    process.stdout.write(await completionScript())
    return 0
  },
}

const USAGE = `Usage: nicback COMMAND [OPTIONS]

Gives every physical NIC its host name back when it returns from a
container's network namespace (instead of devN or the name it had inside).

Commands:
@COMMANDS@
Run "nicback COMMAND --help" for a command's options. The commands that
report what they found or did take --json for machine-readable output.

Options:
  -h, --help     this text ("nicback help COMMAND": that command's)
  -V, --version  print the version

Environment:
  NICBACK_STATE_DIR  where the registry lives (default /var/lib/nicback)

Exit status: 0 done, 1 failed (the message says which NIC and why), 2 bad usage.
`

async function usage(): Promise<string> {
  const lines = await Promise.all(listed().map(async (name) => `  ${name.padEnd(11)} ${(await COMMANDS[name]!()).default.summary}`))
  return USAGE.replace('@COMMANDS@', lines.join('\n'))
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const sub = name === 'help' ? rest[0] : undefined
    if (sub !== undefined) {
      if (!Object.hasOwn(COMMANDS, sub)) return unknownCommand(sub)
      process.stdout.write((await COMMANDS[sub]!()).default.help)
      return 0
    }
    process.stdout.write(await usage())
    return name === undefined ? 2 : 0
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`nicback ${VERSION}\n`)
    return 0
  }
  if (!Object.hasOwn(COMMANDS, name)) return unknownCommand(name)
  const cmd = (await COMMANDS[name]!()).default
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.help)
    return 0
  }
  return runCommand(name, cmd, rest)
}

/** Exit status 2, the nearest command named. */
function unknownCommand(name: string): number {
  const hint = name.startsWith('-') ? didYouMean(name.replace(/^-+/, ''), ['help', 'version'], '--') : didYouMean(name, [...listed(), 'help'])
  process.stderr.write(`nicback: unknown ${name.startsWith('-') ? 'option' : 'command'} "${printable(name)}"${hint}\nRun "nicback --help" for the list of commands.\n`)
  return 2
}

function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isMain()) {
  quietPipes()
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
