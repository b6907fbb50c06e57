import type pg from 'pg'
import {describe, expect, it} from 'vitest'

import {createIngestRunner} from '../../services/ingest/index.js'
import {type ClientFactories, serverClients} from '../../services/shared/component.js'
import {rootNamespace} from '../../services/shared/naming.js'
import {DEFAULT_COMPONENT_CONFIG, type RunnerContext} from '../../services/shared/runner.js'
import {silentLogger} from '../../src/lib/logger.js'

/** A component's factory takes its clients (ComponentDeps): the kit opens them through those, and closes what it opened. */
describe('component deps', () => {
  const ctx = (): RunnerContext => ({
    signal: new AbortController().signal,
    logger: silentLogger,
    endpoints: {postgres: 'postgres://pg', redis: 'redis://redis', rabbitmq: 'amqp://-', rabbitmqManagement: 'http://-', kafka: ['-:1'], mongo: 'mongodb://-'},
    ns: rootNamespace,
    api: {url: () => 'http://-', get: async () => ({status: 503, body: undefined})},
  })

  it('opens the clients with the factories given, and closes them when the start fails', async () => {
    const calls: string[] = []
    const clients: ClientFactories = {
      ...serverClients,
      postgres: (url) => {
        calls.push(`postgres ${url}`)
        return {on: () => undefined, end: async () => void calls.push('postgres end')} as unknown as pg.Pool
      },
      redis: (url) => {
        calls.push(`redis ${url}`)
        throw new Error('no redis in this test')
      },
    }
    const runner = createIngestRunner({config: DEFAULT_COMPONENT_CONFIG, clients})
    await expect(runner.start(ctx())).rejects.toThrow('no redis in this test')
    expect(calls).toEqual(['postgres postgres://pg', 'redis redis://redis', 'postgres end'])
  })
})
