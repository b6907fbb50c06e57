/**
 * Tables every component schema has whatever its own migrations, created by mm before them: the
 * transactional outbox (outbox.ts) and the idempotency ledger of consumed events (db.ts). Kept
 * apart from those modules so applying the topology does not load the pg driver.
 */

/** The outbox table every emitting component's schema has (created by mm before its migrations). */
export const outboxTables = (schema: string): string[] => [
  `CREATE TABLE IF NOT EXISTS "${schema}".outbox (
     id bigserial PRIMARY KEY,
     destination text NOT NULL CHECK (destination IN ('kafka', 'rabbitmq')),
     topic text NOT NULL,
     message_key text NOT NULL,
     payload text NOT NULL,
     headers jsonb NOT NULL DEFAULT '{}',
     created_at timestamptz NOT NULL DEFAULT now(),
     published_at timestamptz)`,
  `CREATE INDEX IF NOT EXISTS outbox_unpublished ON "${schema}".outbox (id) WHERE published_at IS NULL`,
]

/** The idempotency ledger of consumed events (markProcessedMany), in every component's schema. */
export const processedEventsTables = (schema: string): string[] => [
  `CREATE TABLE IF NOT EXISTS "${schema}".processed_events (
     consumer text NOT NULL,
     event_id text NOT NULL,
     processed_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (consumer, event_id))`,
]
