// What `nicback status` shows of a row (moments/status.ts describeStatus).
import { expect, it } from 'vitest'
import { describeStatus, type StatusRow } from '../../../scripts/lib/moments/status.js'

const row = (o: Partial<StatusRow>): StatusRow => ({
  recordedName: 'eth2',
  name: 'eth2',
  state: 'home',
  identity: { bus: '0000:00:03.0', devPort: null, permAddr: null, mac: null },
  container: null,
  away: null,
  detail: '',
  source: 'registry',
  keepers: null,
  ...o,
})

it('gives a row its cells, and what keeps an away NIC away', () => {
  expect(describeStatus(row({}))).toEqual({ cells: ['eth2', 'eth2', 'home', 'registry', 'bus 0000:00:03.0', ''], keepers: null })
  const away = describeStatus(row({ name: null, state: 'away', detail: 'in pid 42', keepers: { inode: 7, processes: [], mounts: ['/run/netns/x'], total: 0, reason: null, unreadable: 0 } as unknown as StatusRow['keepers'] }))
  expect(away.cells.slice(0, 3)).toEqual(['eth2', '-', 'away'])
  expect(away.keepers).toContain('bind mount /run/netns/x')
  expect(describeStatus(row({ recordedName: null, state: 'unrecorded' })).cells[0]).toBe('-')
})
