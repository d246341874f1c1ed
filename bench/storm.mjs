// A udev storm for `npm run bench` (case h): starts the udev rule's command
// (`sh nicback-udev-front.sh NODE`) once per NAME:IFINDEX argument, all at
// once, inside netns NS, as udevd does for a burst of `add` events, and exits
// 0 only if every one exited 0.
//   node bench/storm.mjs NS NODE FRONT NAME:IFINDEX...
import { spawn } from 'node:child_process'

const [ns, node, front, ...devs] = process.argv.slice(2)
const runs = devs.map((d, i) => {
  const [name, ifindex] = d.split(':')
  // A PCI-looking DEVPATH: the event is not dropped as virtual.
  const env = { ...process.env, ACTION: 'add', SEQNUM: String(1000 + i), INTERFACE: name, IFINDEX: ifindex, DEVPATH: `/devices/pci0000:00/0000:00:${(i % 32).toString(16).padStart(2, '0')}.${i >> 5}/net/${name}` }
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, 'sh', front, node], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (b) => (err += b))
    child.on('close', (code) => resolve({ name, code, err }))
  })
})
const failed = (await Promise.all(runs)).filter((r) => r.code !== 0 || /error|warning/.test(r.err))
for (const f of failed) process.stderr.write(`storm: ${f.name} exit ${f.code}: ${f.err}\n`)
process.exitCode = failed.length === 0 ? 0 : 1
