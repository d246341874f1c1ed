// Fuzz tier (issue 11): what `nicback status` reads to name what keeps a
// netns alive is written by whoever runs in it: comm and argv are chosen by
// the process, cgroup names partly by the container, mount paths by whoever
// mounts. The parsers never throw, whatever the text, and everything they
// return, as status writes it (system/printable.ts), is one printable line;
// what is there is found, under any bytes.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { commandOf, nsfsMounts, parseCgroup, showBytes } from '../../scripts/lib/facts/keepers.js'
import { describeKeepers } from '../../scripts/lib/plan/describe.js'
import { printable } from '../../scripts/lib/system/printable.js'

const scale = Number(process.env.NICBACK_FUZZ_RUNS ?? 1)
const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * scale)) })

/** One line, nothing a terminal or a log reader would act on, nothing invisible. */
const PRINTABLE = /^[^\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]*$/u

const bytes = fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b))
const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'))
const uid = fc.uuid()
const junk = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  bytes.map((b) => b.toString('latin1')),
)

/** The kernel's mountinfo escaping (fs/proc_namespace.c: mangle " \t\n\\"). */
const mangle = (b: Buffer) => [...b].map((c) => (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x5c ? `\\${c.toString(8).padStart(3, '0')}` : String.fromCharCode(c))).join('')

describe('what keeps a netns alive: the parsers', () => {
  it('parseCgroup never throws; what it returns is a 64-hex id and a pod UID or null', () => {
    const component = fc.oneof(
      junk,
      hex64,
      hex64.map((h) => `docker-${h}.scope`),
      uid.map((u) => `kubepods-pod${u.replace(/-/g, '_')}.slice`),
      fc.constantFrom('kubepods', 'docker', '..', ''),
    )
    const text = fc.array(fc.tuple(fc.oneof(fc.constant('0'), fc.nat({ max: 20 }).map(String), junk), junk, fc.array(component, { maxLength: 6 })), { maxLength: 6 })
    fc.assert(
      fc.property(
        fc.oneof(
          junk,
          text.map((ls) => ls.map(([h, c, p]) => `${h}:${c}:/${p.join('/')}`).join('\n')),
        ),
        (t) => {
          const r = parseCgroup(t)
          expect(r.container === null || /^[0-9a-f]{64}$/.test(r.container)).toBe(true)
          expect(r.pod === null || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(r.pod)).toBe(true)
        },
      ),
      runs(1500),
    )
  })

  it("parseCgroup finds the runtime's id however deep, and what a container nests below it never wins", () => {
    const style = fc.constantFrom(
      (id: string) => `/system.slice/docker-${id}.scope`,
      (id: string) => `/docker/${id}`,
      (id: string) => `/kubepods.slice/kubepods-pod0a1b2c3d_0000_4000_8000_000000000000.slice/cri-containerd-${id}.scope`,
      (id: string) => `/machine.slice/libpod-${id}.scope/container`,
      (id: string) => `/kubepods/besteffort/pod0a1b2c3d-0000-4000-8000-000000000000/${id}`,
    )
    fc.assert(
      fc.property(
        style,
        hex64,
        fc.array(
          fc.oneof(
            fc.string({ maxLength: 12 }).filter((s) => !s.includes('/') && !s.includes('\n')),
            hex64,
            hex64.map((h) => `crio-${h}.scope`),
          ),
          { maxLength: 4 },
        ),
        (at, id, nested) => {
          const path = [at(id), ...nested].join('/')
          expect(parseCgroup(`0::${path}\n`).container).toBe(id)
        },
      ),
      runs(1000),
    )
  })

  it('nsfsMounts never throws; a mount at any path is found, its path the bytes as mounted, printable as status shows it', () => {
    fc.assert(
      fc.property(junk, (t) => {
        for (const m of nsfsMounts(t)) {
          expect(Number.isSafeInteger(m.inode)).toBe(true)
          expect(printable(m.path)).toMatch(PRINTABLE)
        }
      }),
      runs(1500),
    )
    fc.assert(
      fc.property(
        bytes.filter((b) => b.length > 0),
        fc.integer({ min: 1, max: 2 ** 32 }),
        fc.array(
          junk.map((j) => j.replace(/\n/g, '')),
          { maxLength: 3 },
        ),
        (path, inode, around) => {
          const line = `612 29 0:4 net:[${inode}] ${mangle(path)} rw shared:5 - nsfs nsfs rw`
          const text = [...around, line, ...around].join('\n')
          expect(nsfsMounts(text)).toContainEqual({ path: showBytes(path), inode })
        },
      ),
      runs(1500),
    )
  })

  it('commandOf and describeKeepers: any comm, argv and mount path make one printable line as status shows it', () => {
    fc.assert(
      fc.property(fc.option(bytes), fc.option(bytes), fc.array(bytes, { maxLength: 3 }), (comm, cmdline, mounts) => {
        const command = commandOf(comm, cmdline)
        if (command !== null) {
          expect(printable(command)).toMatch(PRINTABLE)
          expect([...command].length).toBeLessThanOrEqual(67)
        }
        const line = describeKeepers({
          inode: 4026532000,
          processes: [{ pid: 1, command: command ?? '?', container: null, pod: null }],
          mounts: mounts.map(showBytes),
          total: 1,
          reason: null,
          unreadable: 0,
        })
        expect(printable(line)).toMatch(PRINTABLE)
      }),
      runs(1500),
    )
  })
})
