// What the udev rule runs: `nicback udev` alone, bundled as one CommonJS file.
// node 20 spends ~10 ms more starting any ES module entry than a CommonJS one
// (docs/design.md, "Start-up cost"), and this runs for every net event of a NIC on a
// bus, so it gets the cheaper loader; the code is scripts/commands/udev.ts.
import { runCommand } from './lib/cli/cli.js'
import { quietPipes } from './lib/cli/pipes.js'
import udev from './commands/udev.js'

quietPipes()
runCommand('udev', udev, process.argv.slice(2)).then((code) => {
  process.exitCode = code
})
