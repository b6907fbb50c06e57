import {chmodSync, mkdtempSync} from 'node:fs'
import {join} from 'node:path'

import type {TestProject} from 'vitest/node'

import {loadConfig} from '../../src/config/index.js'
import {createNativeRuntime} from '../../src/infra/native/runtime.js'
import type {Endpoints} from '../../src/infra/types.js'
import {createLogger, fileSink} from '../../src/lib/logger.js'

declare module 'vitest' {
  export interface ProvidedContext {
    endpoints: Endpoints
    dataDir: string
  }
}

/**
 * Starts the five real servers once per run with mm's own native runtime: ephemeral ports,
 * throwaway data under /tmp (reachable by the postgres user), no persistence.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync('/tmp/mm-it-')
  chmodSync(dataDir, 0o755) // the postgres user must reach its data directory
  const config = loadConfig()
  const {mkdirSync} = await import('node:fs')
  mkdirSync(join(dataDir, 'logs'), {recursive: true})
  const logger = createLogger(fileSink(join(dataDir, 'logs', 'mm.log')), 'info')
  const runtime = createNativeRuntime({dataDir, cacheDir: config.cacheDir, ports: 'ephemeral', persistent: false, logger})
  const controller = new AbortController()
  const started = Date.now()
  const {endpoints} = await runtime.up({signal: controller.signal, waitTimeoutMs: 180_000})
  process.stderr.write(`integration servers up in ${Date.now() - started}ms (data ${dataDir})\n`)
  project.provide('endpoints', endpoints)
  project.provide('dataDir', dataDir)
  return async () => {
    await runtime.down({volumes: !process.env.MM_KEEP_TEST_DATA})
  }
}
