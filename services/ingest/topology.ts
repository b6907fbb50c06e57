import type {ComponentTopology} from '../shared/topology.js'

/** The RabbitMQ queue usage pulses arrive on (PLATFORM.md §3.5). */
export const PULSES_QUEUE = 'pulses'

/** ingest: consumes `pulses`; flushes into its own schema. */
export const ingestTopology: ComponentTopology = {
  rabbitQueues: [{name: PULSES_QUEUE, bindings: []}],
  migrations: ['ingest'],
}
