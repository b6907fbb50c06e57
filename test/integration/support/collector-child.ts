/**
 * A collector in a process of its own, for the test that closes one with work in flight
 * (collector.int.test.ts): it takes a snapshot, starts another with three probes, closes at once,
 * tries again after closing, prints what each call did, and then has nothing left to do: the
 * process exits by itself only if no connection or timer outlived close().
 *
 *   node --import tsx collector-child.ts '<endpoints JSON>' <name prefix>
 */
import {createCollector} from '../../../src/operations/collectors/index.js'
import {silentLogger} from '../../../src/lib/logger.js'
import {prefixNamespace} from '../../../services/shared/naming.js'

const endpoints = JSON.parse(process.argv[2]!)
const c = createCollector(endpoints, silentLogger, prefixNamespace(process.argv[3]!))
const first = await c.collect()
const inFlight = [
  c.collect(),
  c.prober('kafka', endpoints, 3000),
  c.prober('redis', endpoints, 3000),
  c.prober('postgres', endpoints, 3000),
  c.prober('mongo', endpoints, 3000),
]
await c.close()
const settled = await Promise.allSettled(inFlight)
const after = await Promise.allSettled([c.collect(), c.prober('mongo', endpoints, 3000)])
const outcome = (r: PromiseSettledResult<unknown>) => (r.status === 'fulfilled' ? 'ok' : `rejected: ${(r.reason as Error).message}`)
process.stdout.write(
  `${JSON.stringify({firstKafkaError: first.queues.kafka.error ?? null, inFlight: settled.map(outcome), afterClose: after.map(outcome)})}\nCLOSED\n`,
)
