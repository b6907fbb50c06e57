import {describe, expect, it} from 'vitest'

import {createExternalRuntime} from '../../src/infra/external.js'
import {ReadinessTimeoutError} from '../../src/lib/errors.js'
import {freePort} from '../../src/lib/ports.js'

/** `--infra external`: nothing is started; `up` polls the servers until they all answer or the wait times out. */
const nothingListening = async () => {
  const port = await freePort() // free now: nothing answers there
  return createExternalRuntime(
    {
      postgres: `postgres://mm:secret@127.0.0.1:${port}/mercadomio`,
      redis: `redis://127.0.0.1:${port}`,
      rabbitmq: `amqp://guest:guest@127.0.0.1:${port}`,
      rabbitmqManagement: `http://guest:guest@127.0.0.1:${port}`,
      kafka: [`127.0.0.1:${port}`],
      mongo: `mongodb://127.0.0.1:${port}`,
    },
    300,
  )
}

describe('external runtime up', () => {
  it('past the wait timeout, names every server that did not answer (exit 4)', async () => {
    const runtime = await nothingListening()
    const began = Date.now()
    const error = await runtime.up({signal: new AbortController().signal, waitTimeoutMs: 1000}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ReadinessTimeoutError)
    expect((error as ReadinessTimeoutError).exitCode).toBe(4)
    expect((error as Error).message).toMatch(/^external servers not reachable: postgres \(.+\); redis \(.+\); rabbitmq \(.+\); kafka \(.+\); mongo \(.+\)$/)
    expect((error as ReadinessTimeoutError).hint).toBe('check the MM_*_URL settings and that the servers run')
    expect(Date.now() - began).toBeGreaterThanOrEqual(1000)
  })

  it('stops polling once its signal aborts', async () => {
    const runtime = await nothingListening()
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    const began = Date.now()
    const error = await runtime.up({signal: controller.signal, waitTimeoutMs: 60_000}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ReadinessTimeoutError)
    expect(Date.now() - began).toBeLessThan(10_000)
  })
})
