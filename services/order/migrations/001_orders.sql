-- Order write model (PLATFORM.md §3.3). The schema "order" (a reserved word: always quoted), its
-- outbox and processed_events are created by the migrator.
CREATE TABLE "order".orders (
  id            uuid        PRIMARY KEY,
  customer_id   text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('PENDING', 'RESERVED', 'PAID', 'CANCELED')),
  total_cents   bigint      NOT NULL CHECK (total_cents >= 0),
  -- aggregate_version of the events: 1 on creation, +1 on every transition.
  version       integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  paid_at       timestamptz,
  canceled_at   timestamptz,
  cancel_reason text
);
CREATE INDEX orders_by_customer_newest ON "order".orders (customer_id, created_at DESC, id DESC);
CREATE INDEX orders_newest ON "order".orders (created_at DESC, id DESC);

-- Lines with the unit price snapshotted at creation; one line per product (duplicates are merged).
CREATE TABLE "order".order_items (
  order_id         uuid    NOT NULL REFERENCES "order".orders (id) ON DELETE CASCADE,
  line             integer NOT NULL,
  product_id       text    NOT NULL,
  quantity         integer NOT NULL CHECK (quantity >= 1),
  unit_price_cents bigint  NOT NULL CHECK (unit_price_cents >= 0),
  PRIMARY KEY (order_id, line),
  UNIQUE (order_id, product_id)
);

-- Idempotency-Key of POST /orders (and checkout), written in the order's transaction.
CREATE TABLE "order".idempotency_keys (
  key          text        PRIMARY KEY,
  request_hash text        NOT NULL,
  order_id     uuid        NOT NULL REFERENCES "order".orders (id),
  created_at   timestamptz NOT NULL DEFAULT now()
);
