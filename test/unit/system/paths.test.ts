// The state directory's refusal names the real cause (issue 18): run by a
// user who is not root, root's directory is refused because they are not
// root, not because it should be "made root's".
import { describe, expect, it } from 'vitest'
import { stateDirRefusal } from '../../../scripts/lib/system/paths.js'

describe('stateDirRefusal', () => {
  it('not root, a directory of someone else: says that it runs as uid N, not root', () => {
    const msg = stateDirRefusal('/var/lib/nicback', { uid: 0 }, 'it is owned by uid 0, not uid 1000', 1000)
    expect(msg).toMatch(/nicback runs as uid 1000, not root; run it as root/)
    expect(msg).not.toMatch(/make it root's/)
  })

  it("root, or a user's own directory with a bad mode: the directory's fault, and its fix", () => {
    expect(stateDirRefusal('/s', { uid: 1000 }, 'it is owned by uid 1000, not root', 0)).toMatch(/^refusing the state directory \/s: it is owned by uid 1000, not root; make it root's and private/)
    expect(stateDirRefusal('/s', { uid: 1000 }, 'others can write it (mode 0777)', 1000)).toMatch(/^refusing the state directory \/s: others can write it/)
  })
})
