#!/usr/bin/env node
// The commands that run runners trace them (unless MM_TRACE=off): the tracer provider and the
// instrumentations load first, with the ESM loader hook, so the ESM-loaded clients (ioredis,
// mongodb, the HTTP server) are instrumented too. Other commands load none of it.
const TRACED = new Set(['up', 'supervise', 'run'])
if (TRACED.has(process.argv[2] ?? '') && process.env.MM_TRACE !== 'off') {
  const {register} = await import('node:module')
  const {createAddHookMessageChannel} = await import('import-in-the-middle')
  const {registerOptions, waitForAllMessagesAcknowledged} = createAddHookMessageChannel()
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions)
  await import('../dist/src/telemetry/preload.js')
  await waitForAllMessagesAcknowledged()
}

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
