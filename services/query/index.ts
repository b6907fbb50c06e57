import type {Runner} from '../shared/runner.js'
import {MONGO_DATABASE} from '../shared/topology.js'
import {QUERY_GROUP} from './topology.js'
import {type ComponentDeps, defineComponent} from '../shared/component.js'
import {headersToStrings, startKafkaConsumer} from '../shared/kafka.js'
import {createProjector, PROJECTED_TOPICS} from './projector.js'
import {queryRoutes} from './routes.js'
import {views} from './views.js'

export {projectionStats, type ProjectionStats} from './stats.js'
export {PROJECTED_TOPICS} from './projector.js'

/** What query is built with: the retries of its consumer, and its clients. */
export type QueryDeps = ComponentDeps

/**
 * query (PLATFORM.md §3.4): consumes every domain topic (group `query`) into the MongoDB read
 * models of database `mercadomio` and serves them under /q. Idempotency comes from the
 * per-aggregate versions in the views, so nothing is recorded in PostgreSQL.
 */
export const createQueryRunner = ({config, clients}: QueryDeps): Runner =>
  defineComponent('query', {kafka: true, mongo: true}, clients, async (kit, ctx) => {
    const database = ctx.ns(MONGO_DATABASE)
    const v = views(kit.mongo.db(database))
    const projector = createProjector(v, (e, outcome) => {
      kit.feed({type: e.type, id: e.aggregate_id, outcome: 'handled', detail: `${outcome} v${e.aggregate_version}`})
      if (outcome === 'stale') ctx.logger.debug('query.stale_event', {type: e.type, id: e.aggregate_id, version: e.aggregate_version})
    })
    const {stopped} = await startKafkaConsumer(
      {
        kafka: kit.kafka,
        groupId: ctx.ns(QUERY_GROUP),
        topics: PROJECTED_TOPICS.map((t) => ctx.ns(t)),
        handleBatch: projector.handleBatch,
        backoffMs: [...config.retryBackoffMs],
        producer: kit.producer,
        logger: ctx.logger,
        stats: kit.counters,
        onDeadLetter: (m, error) => {
          const type = headersToStrings(m.message.headers)['event-type'] ?? m.topic
          kit.feed({type, id: m.message.key?.toString(), outcome: 'dead-lettered', detail: error.message})
        },
      },
      ctx.signal,
    )
    return {
      routes: queryRoutes(v),
      tasks: [stopped],
      info: () => ({database, ...projector.stats}),
    }
  })
