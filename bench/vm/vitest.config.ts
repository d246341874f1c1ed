import { defineConfig } from 'vitest/config'

// `npm run bench:storms`: a measurement in the VM, not a test tier (the
// tiers are in /vitest.config.ts and never include bench/).
export default defineConfig({ test: { include: ['bench/vm/storms.vm.ts'], testTimeout: 1_800_000 } })
