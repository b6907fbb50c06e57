import {defineConfig} from 'vitest/config'

/**
 * Five tiers (HANDBOOK "Testing"): unit (pure logic), ui (presentation), integration (real servers
 * started once by mm's native runtime in globalSetup), e2e (spawns the built bin/run.js), chaos
 * (kills processes of a running platform under load and checks the oracles of RELIABILITY.md).
 */
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {test: {name: 'unit', include: ['test/unit/**/*.test.ts']}},
      {test: {name: 'ui', include: ['test/ui/**/*.test.{ts,tsx}']}},
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.int.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.test.ts'],
          // One platform at a time: each file owns the standard ports while it runs.
          fileParallelism: false,
          testTimeout: 240_000,
          hookTimeout: 240_000,
        },
      },
      {
        test: {
          // RELIABILITY.md: SIGKILL under load, repair, oracles. One platform on the standard
          // ports, after the other tiers (npm test runs it last, in a vitest run of its own).
          name: 'chaos',
          include: ['test/chaos/**/*.chaos.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
})
