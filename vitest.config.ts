import { defineConfig } from 'vitest/config'

// The test tiers, all run by `npm test` (docs/testing.md): unit, fuzz, cli, pkg,
// netns, vm. pkg, netns and vm need root; they
// fail (never skip) when they cannot run, so a green run means they ran.
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
