import { defineConfig } from 'vitest/config'

// The test tiers, all run by `npm test` (docs/testing.md): unit, fuzz, cli, pkg,
// netns, vm. pkg, netns and vm need root. With CI=true they never skip: a
// tier that cannot run fails, so a green CI run means they ran. Off CI, a run
// that is not root skips pkg and vm (the edit-test loop as a user); netns
// fails without root, on CI or not.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'fuzz', include: ['test/fuzz/**/*.test.ts'], testTimeout: 300_000 } },
      { test: { name: 'cli', include: ['test/cli/**/*.test.ts'], testTimeout: 60_000, fileParallelism: false } },
      { test: { name: 'pkg', include: ['test/pkg/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000 } },
      { test: { name: 'netns', include: ['test/netns/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 60_000 } },
      { test: { name: 'vm', include: ['test/vm/**/*.test.ts'], testTimeout: 900_000, hookTimeout: 900_000, fileParallelism: false } },
    ],
  },
})
