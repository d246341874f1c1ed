// Test-only: the NAME= alternative to nicback's RUN rename, measured in the
// VM (docs/design.md, "Why RUN and not NAME="). udev runs it through IMPORT{program};
// it prints the recorded name of the event's NIC, found by PCI address, and
// the rule hands that to udev's own rename. Same node start-up as nicback.
const fs = require('node:fs')
const name = process.env.INTERFACE
const reg = JSON.parse(fs.readFileSync('/var/lib/nicback/registry.json', 'utf8'))
let device
try {
  device = fs.realpathSync(`/sys/class/net/${name}/device`)
} catch {
  process.exit(0)
}
const pci = device
  .split('/')
  .reverse()
  .find((p) => /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(p))
const entry = reg.nics.find((e) => e.bus === pci)
if (entry && entry.name !== name) process.stdout.write(`NICBACK_NAME=${entry.name}\n`)
