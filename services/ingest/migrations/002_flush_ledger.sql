-- Ledger of applied flush snapshots (services/ingest/FLUSH.md). A flush inserts its id here in the
-- same transaction as its upserts into ingest.pulses: the primary key makes applying one Redis
-- snapshot twice impossible, and serialises two flushes that resume the same snapshot.
CREATE TABLE ingest.flushes (
  flush_id     text        PRIMARY KEY,
  keys         integer     NOT NULL DEFAULT 0,
  rows_written integer     NOT NULL DEFAULT 0,
  applied_at   timestamptz NOT NULL DEFAULT now()
);
