// `nicback status` names what keeps an away NIC's network namespace alive
// (issue 11): a stand-in given to a netns made with `ip netns add` (a bind
// mount under /run/netns) with a process started in it, then the name
// deleted, then the process killed. Read from the kernel each time.
import { spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { createWorld, destroyWorlds, ensureBuilt, type StatusJson, type World } from './world.js'

beforeAll(ensureBuilt)

const procs: ChildProcess[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const p of procs.splice(0)) await kill(p)
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  destroyWorlds()
})

async function kill(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return
  const gone = new Promise((r) => p.once('exit', r))
  p.kill('SIGKILL')
  await gone
}

/** `ip netns exec NS ARGV...`, once the process runs ARGV[0] in NS. */
async function startIn(ns: string, argv: string[], comm: string): Promise<{ pid: number; proc: ChildProcess }> {
  const proc = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: 'ignore' })
  procs.push(proc)
  const pid = proc.pid!
  const want = statSync(`/run/netns/${ns}`).ino
  for (let i = 0; i < 300; i++) {
    try {
      if (statSync(`/proc/${pid}/ns/net`).ino === want && readFileSync(`/proc/${pid}/comm`, 'latin1') === `${comm}\n`) return { pid, proc }
    } catch {
      // not started yet
    }
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`${argv.join(' ')} did not start in ${ns}`)
}

/** eth1 given to a netns of its own (/run/netns/<ctr>) with `nicback assign`. */
function assigned(): { w: World; ctr: string; inode: number } {
  const w = createWorld({ nics: 3 })
  expect(w.nicback(['record', ...w.nics]).code).toBe(0)
  const ctr = w.container('k')
  const r = w.nicback(['assign', 'eth1', '--netns', ctr, '--force'])
  expect(r.code, r.stderr).toBe(0)
  expect(w.where()).toEqual({ eth0: 'eth0', eth1: null, eth2: 'eth2' })
  return { w, ctr, inode: statSync(`/run/netns/${ctr}`).ino }
}

function status(w: World): { row: (n: string) => StatusJson; text: string } {
  const r = w.nicbackJson<StatusJson[]>(['status'])
  expect(r.code, r.stderr).toBe(0)
  const t = w.nicback(['status'])
  expect(t.code, t.stderr).toBe(0)
  return { row: (n) => r.json.find((x) => x.recordedName === n)!, text: t.stdout }
}

describe('status names what keeps an away NIC away', () => {
  test('a process in its netns and the netns name; the process alone once the name is deleted; nothing once it is killed', async () => {
    const { w, ctr, inode } = assigned()
    const reg = JSON.parse(w.registryText()) as { nics: { name: string; away: { netnsInode?: number } | null }[] }
    expect(reg.nics.find((e) => e.name === 'eth1')!.away!.netnsInode).toBe(inode)
    const { pid, proc } = await startIn(ctr, ['sleep', '300'], 'sleep')

    let s = status(w)
    expect(s.row('eth1')).toMatchObject({ state: 'away', container: { netns: `/run/netns/${ctr}` } })
    const k = s.row('eth1').keepers!
    expect(k).toEqual({ inode, processes: [expect.objectContaining({ pid, command: 'sleep' })], mounts: [`/run/netns/${ctr}`], total: 1, reason: null, unreadable: expect.any(Number) })
    // The test's own cgroup decides these (it may run in a container itself).
    expect(Object.keys(k.processes[0]!).sort()).toEqual(['command', 'container', 'pid', 'pod'])
    expect(k.processes[0]!.container === null || /^[0-9a-f]{12}$/.test(k.processes[0]!.container)).toBe(true)
    for (const n of ['eth0', 'eth2']) expect(s.row(n)).toMatchObject({ state: 'home', keepers: null })
    const lines = s.text.split('\n')
    const at = lines.findIndex((l) => /^eth1\s+-\s+away\s/.test(l))
    expect(lines[at + 1]).toMatch(new RegExp(`^ {2}kept alive by: pid ${pid} sleep( \\(container [0-9a-f]{12}[^)]*\\))?; bind mount /run/netns/${ctr}$`))
    expect(lines[at + 2]).toMatch(/^eth2\s+eth2\s+home/)

    // The name gone, the process still holds it: the NIC stays away.
    w.ip('netns', 'delete', ctr)
    s = status(w)
    expect(s.row('eth1').state).toBe('away')
    expect(s.row('eth1').keepers).toMatchObject({ inode, processes: [{ pid, command: 'sleep' }], mounts: [], total: 1 })
    expect(s.text).toMatch(new RegExp(`^ {2}kept alive by: pid ${pid} sleep( \\([^)]*\\))?$`, 'm'))

    // Nothing holds it: it dies (and the veth stand-in with it).
    await kill(proc)
    s = status(w)
    expect(s.row('eth1').keepers).toMatchObject({ inode, processes: [], mounts: [], total: 0, reason: null })
    // Some sandboxes have a process even root may not inspect (EACCES on /proc/PID/ns/net).
    const unseen = s.row('eth1').keepers!.unreadable
    expect(s.text).toContain(
      unseen === 0
        ? `  nothing holds its network namespace (net:[${inode}]: no process in it, no bind mount of it): it should be on its way back; run "nicback restore"`
        : `  no process or bind mount nicback can see holds its network namespace (net:[${inode}]); ${unseen} process${unseen === 1 ? '' : 'es'} could not be looked at`,
    )
  })

  test('a departure recorded without the inode: found by its netns file while that exists, else the reason', async () => {
    const { w, ctr, inode } = assigned()
    const reg = JSON.parse(w.registryText()) as { nics: { name: string; away: Record<string, unknown> | null }[] }
    delete reg.nics.find((e) => e.name === 'eth1')!.away!.netnsInode
    writeFileSync(w.registryPath, JSON.stringify(reg))
    const { pid } = await startIn(ctr, ['sleep', '300'], 'sleep')

    expect(status(w).row('eth1').keepers).toMatchObject({ inode, processes: [{ pid, command: 'sleep' }], mounts: [`/run/netns/${ctr}`], total: 1 })
    w.ip('netns', 'delete', ctr)
    const s = status(w)
    expect(s.row('eth1').keepers).toEqual({ inode: null, processes: [], mounts: [], total: 0, reason: expect.stringContaining(`netns /run/netns/${ctr} is gone`), unreadable: 0 })
    expect(s.text).toMatch(new RegExp(`^ {2}cannot find its network namespace: netns /run/netns/${ctr} is gone`, 'm'))
  })

  test('a hostile command name is shown escaped, on one line', async () => {
    const { w, ctr } = assigned()
    const dir = mkdtempSync(join(tmpdir(), 'nicback-keepers-'))
    dirs.push(dir)
    // comm is the file name exec'd (15 bytes at most): a newline, an escape sequence, a byte that is not UTF-8.
    const name = Buffer.from('a\nb\x1b[31m\xff', 'latin1')
    const bin = Buffer.concat([Buffer.from(`${dir}/`), name])
    copyFileSync('/bin/sleep', bin)
    chmodSync(bin, 0o755)
    // argv cannot carry the 0xff byte as such: the shell's glob does.
    const evil = await startIn(ctr, ['sh', '-c', `for f in ${dir}/*; do exec "$f" 300; done`], name.toString('latin1'))
    const s = status(w)
    expect(s.row('eth1').keepers!.processes).toEqual([expect.objectContaining({ pid: evil.pid, command: 'a\\x0ab\\x1b[31m\\xff' })])
    const lines = s.text.split('\n')
    const at = lines.findIndex((l) => /^eth1\s+-\s+away\s/.test(l))
    expect(lines[at + 1]).toContain(`pid ${evil.pid} a\\x0ab\\x1b[31m\\xff`)
    expect(lines[at + 2]).toMatch(/^eth2\s+eth2\s+home/)
  })
})
