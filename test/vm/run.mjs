#!/usr/bin/env node
// Run one scenario in the test VM by hand (as root):
//   node test/vm/run.mjs [--kernel 6.1|6.12] [--docker] [--igbs N] [--mem MB] [--timeout S] [--keep] [--console] [--append ARG]... SCRIPT.sh
// Prints the scenario's log, its result.json and timings; --keep keeps the
// out folder (guest.log, dockerd.log...) and prints its path. Node 20 cannot
// import harness.ts directly, so it is bundled in memory with esbuild first.
import { build } from 'esbuild'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
let kernel = '6.1'
let docker = false
let igbs = 0
let memMb
let timeoutMs
let showConsole = false
let script
const append = []
for (let i = 0; i < args.length; i++) {
  const a = args[i]
  if (a === '--kernel') kernel = args[++i]
  else if (a === '--docker') docker = true
  else if (a === '--igbs') igbs = Number(args[++i])
  else if (a === '--mem') memMb = Number(args[++i])
  else if (a === '--timeout') timeoutMs = Number(args[++i]) * 1000
  else if (a === '--keep') process.env.NICBACK_VM_KEEP = '1'
  else if (a === '--console') showConsole = true
  else if (a === '--append') append.push(args[++i])
  else if (a === '--help' || a === '-h' || a.startsWith('-')) {
    console.log('usage: node test/vm/run.mjs [--kernel 6.1|6.12] [--docker] [--igbs N] [--mem MB] [--timeout S] [--keep] [--console] [--append ARG]... SCRIPT.sh')
    process.exit(a.startsWith('--h') || a === '-h' ? 0 : 2)
  } else script = a
}
if (!script) {
  console.error('run.mjs: no scenario script given (see --help)')
  process.exit(2)
}

const harnessPath = fileURLToPath(new URL('./harness.ts', import.meta.url))
const bundle = await build({
  entryPoints: [harnessPath],
  bundle: true,
  platform: 'node',
  format: 'esm',
  write: false,
  define: { 'import.meta.url': JSON.stringify(new URL('./harness.ts', import.meta.url).href) },
})
const harness = await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString('base64')}`)

const vm = await harness.runInVm({ kernel, docker, igbs, memMb, timeoutMs, ...(igbs > 0 ? { nics: [] } : {}), script: readFileSync(script, 'utf8'), append })
process.stdout.write(`--- scenario log\n${vm.log}`)
process.stdout.write(`--- result.json\n${JSON.stringify(vm.result, null, 2)}\n`)
process.stdout.write(`--- guest log\n${vm.guestLog}`)
if (vm.exitCode === null || showConsole) process.stdout.write(`--- console\n${vm.console}\n`)
process.stdout.write(`--- exit ${vm.exitCode}, boot ${vm.bootMs} ms, total ${vm.wallMs} ms${vm.timedOut ? ' (timed out)' : ''}` + `${vm.outDir ? `, out folder ${vm.outDir}` : ''}\n`)
process.exit(vm.exitCode === 0 ? 0 : 1)
