// `npm run bench:storms` (issue 21): how much a 21-VF storm takes over udevd
// alone, with each storm timed right after a udevd-alone storm of its own in
// the same boot (bench/vm/storms.sh), for the udev rule and the agent. Not a
// test tier: it asserts only that every figure was measured, prints them with
// three estimators (the issue's: median storm - median udevd alone by its
// database entries; the median of the paired differences; and the first
// against udevd done sending out every event), and writes the table to
// bench/storms-KERNEL.md (BENCH_OUT; "-" for none). Needs what the VM tier needs
// (test/vm/README.md). Env: STORM_KERNEL (6.12 or 6.1), STORM_REPS (pairs,
// default 5), STORM_DOCKER=1 (dockerd in the guest, as in the SR-IOV test's
// 6.12 boot), STORM_DETACHED=1 (each rule pair also times the storm with the
// leader out of udevd's worker: a row of its own).
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { CHECKOUT, lastNicMs, median, requireVm, runInVm, type WatchedScenario } from '../../test/vm/harness.js'

const KERNEL = (process.env.STORM_KERNEL ?? '6.12') as '6.1' | '6.12'
const REPS = Number(process.env.STORM_REPS ?? 5)
const DOCKER = process.env.STORM_DOCKER === '1'
const DETACHED = process.env.STORM_DETACHED === '1'
const OUT = process.env.BENCH_OUT ?? join(CHECKOUT, 'bench', `storms-${KERNEL}.md`)

const ratio = (ms: number, one: number) => `${(ms / one).toFixed(2)}x`

test(`storms against udevd alone, interleaved, kernel ${KERNEL}`, async () => {
  requireVm()
  const script = `REPS=${REPS}\nDETACHED=${DETACHED ? 1 : 0}\n${readFileSync(join(CHECKOUT, 'bench', 'vm', 'storms.sh'), 'utf8')}`
  const vm = await runInVm({ kernel: KERNEL, script, igbs: 3, nics: [], docker: DOCKER, memMb: 3072, timeoutMs: 1_500_000 })
  expect(vm.exitCode, vm.log).toBe(0)
  const r = (vm.result ?? {}) as Record<string, WatchedScenario | undefined>
  const last = (k: string, field: 'backMs' | 'namedMs' | 'udevDbMs' | 'udevMs') => {
    const s = r[k]
    expect(s, `${k} measured\n${vm.log}`).toBeDefined()
    const t = lastNicMs(s!.watch, field)
    expect(Number.isFinite(t), `${k}: every VF ${field === 'namedMs' ? 'named' : 'done by udevd'}\n${JSON.stringify(s)}`).toBe(true)
    return t
  }
  const rows: string[] = []
  // [row, result key prefix, storm key, target]; dstorm only with DETACHED
  const paths: [string, string, string, number][] = [
    ['udev rule', '', 'storm', 1.5],
    ['udev rule, leader out of the worker', '', 'dstorm', 1.5],
    ['agent', 'agent-', 'storm', 1],
  ]
  for (const [who, p, storm, target] of paths.filter(([, , storm]) => DETACHED || storm !== 'dstorm')) {
    const one = median([1, 2, 3].map((k) => last(`${p}single${k}`, 'namedMs')))
    const keys = Array.from({ length: REPS }, (_, i) => i + 1)
    // udevd alone until its database had every VF (what a run waits for),
    // and until it had sent out every VF's last event (RUN programs done)
    const alone = keys.map((k) => last(`${p}alone${k}`, 'udevDbMs'))
    const aloneAll = keys.map((k) => last(`${p}alone${k}`, 'udevMs'))
    const storms = keys.map((k) => last(`${p}${storm}${k}`, 'namedMs'))
    const diffs = storms.map((s, i) => s - alone[i]!)
    // the kernel's part: when it had handed back the last VF
    const back = (k: string) => last(k, 'backMs')
    console.log(`[bench storms] ${who}: the kernel had handed back the last VF at ${keys.map((k) => back(`${p}alone${k}`)).join(', ')} ms (udevd alone), ${keys.map((k) => back(`${p}${storm}${k}`)).join(', ')} ms (storms)`)
    // each storm's runs, as they account for their time (the waits for udevd)
    for (const k of keys) console.log(`[bench storms] ${p}${storm}${k}: ${storms[k - 1]} ms; ${(r[`${p}${storm}${k}`] as { log?: string }).log?.split('\n').join(' | ')}`)
    const row = `| ${who}, ${KERNEL}${DOCKER ? ', dockerd' : ''} | ${one} | ${alone.join(', ')} | ${aloneAll.join(', ')} | ${storms.join(', ')} | ${ratio(median(storms) - median(alone), one)} | ${ratio(median(diffs), one)} (${ratio(Math.min(...diffs), one)} to ${ratio(Math.max(...diffs), one)}) | ${ratio(median(storms) - median(aloneAll), one)} | ${target}x |`
    console.log(`[bench storms] ${row}`)
    rows.push(row)
  }
  if (OUT !== '-') {
    const head = [
      `## Storms against udevd alone, interleaved (\`npm run bench:storms\`)`,
      '',
      `${new Date().toISOString().slice(0, 10)}, kernel ${KERNEL} under qemu (TCG, 2 vCPUs), ${REPS} pairs each. Times in ms from \`ip -all netns delete\`: udevd alone until its database had an entry for every VF (what a run waits for), and until it had sent out every VF's last event (RUN programs done; on 6.1 the move to devN); a storm until the last VF had its name. Ratios: (median storm - median udevd alone) / one VF's return (median of 3); paired: the median of each storm minus its own udevd alone.${DETACHED ? ' "Leader out of the worker": the same pairs, the storm timed once more with the leader started in the background (the front patched in the guest), the two storms of a pair in alternating order.' : ''}`,
      '',
      '| path | one VF | udevd alone: entries | udevd alone: events sent | storm | ratio, entries | paired, entries (range) | ratio, events sent | target |',
      '| --- | ---: | --- | --- | --- | ---: | --- | ---: | --- |',
    ]
    writeFileSync(OUT, [...head, ...rows, ''].join('\n'))
  }
}, 1_800_000)
