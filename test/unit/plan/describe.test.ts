// Where a NIC went and what keeps it there, in words.
import { describe, expect, it } from 'vitest'
import type { Keepers } from '../../../scripts/lib/facts/keepers.js'
import { describeKeepers } from '../../../scripts/lib/plan/describe.js'

const k = (o: Partial<Keepers>): Keepers => ({ inode: 4026532001, processes: [], mounts: [], total: 0, reason: null, unreadable: 0, ...o })

describe('describeKeepers', () => {
  it('processes with their container and pod, the rest counted, then the bind mounts', () => {
    expect(
      describeKeepers(
        k({
          processes: [
            { pid: 42, command: 'sleep', container: '0123456789ab', pod: null },
            { pid: 43, command: 'pause', container: 'fedcba987654', pod: '8f6c2a0e-1b2c-4d5e-9f00-0123456789ab' },
            { pid: 44, command: 'sh', container: null, pod: null },
          ],
          total: 5,
          mounts: ['/run/netns/x'],
        }),
      ),
    ).toBe('kept alive by: pid 42 sleep (container 0123456789ab); pid 43 pause (container fedcba987654, pod 8f6c2a0e-1b2c-4d5e-9f00-0123456789ab); pid 44 sh; 2 more processes; bind mount /run/netns/x')
    expect(describeKeepers(k({ mounts: ['/run/docker/netns/abcd'] }))).toBe('kept alive by: bind mount /run/docker/netns/abcd')
    expect(describeKeepers(k({ processes: [{ pid: 1, command: 'a', container: null, pod: null }], total: 2 }))).toBe('kept alive by: pid 1 a; 1 more process')
  })

  it('nothing holds it: on its way back, and how to look for an open descriptor', () => {
    expect(describeKeepers(k({}))).toBe(
      'nothing holds its network namespace (net:[4026532001]: no process in it, no bind mount of it): it should be on its way back; run "nicback restore". ' +
        "If it stays away, a process may hold that namespace open: ls -l /proc/*/fd | grep 'net:\\[4026532001\\]'",
    )
  })

  it('processes it may not look at: counted when nothing else is found, never "nothing holds it"', () => {
    expect(describeKeepers(k({ unreadable: 3 }))).toBe('no process or bind mount nicback can see holds its network namespace (net:[4026532001]); 3 processes could not be looked at (permission denied: not root, or without CAP_SYS_PTRACE)')
    expect(describeKeepers(k({ mounts: ['/run/netns/x'], unreadable: 1 }))).toBe('kept alive by: bind mount /run/netns/x')
  })

  it('cannot find it: the reason', () => {
    expect(describeKeepers(k({ inode: null, reason: 'cannot find its network namespace: pid 7 is gone' }))).toBe('cannot find its network namespace: pid 7 is gone')
  })
})
