-- Products and stock reservations (PLATFORM.md §3.2). `version` is the aggregate version of events.
CREATE TABLE product.products (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  sku         text        NOT NULL UNIQUE,
  name        text        NOT NULL CHECK (length(btrim(name)) > 0),
  price_cents integer     NOT NULL CHECK (price_cents >= 0),
  stock       integer     NOT NULL CHECK (stock >= 0),
  version     integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX products_newest ON product.products (created_at DESC, id DESC);

-- Stock held for an order: one row per (order, product), released at most once.
CREATE TABLE product.reservations (
  order_id    text        NOT NULL,
  product_id  uuid        NOT NULL REFERENCES product.products (id),
  quantity    integer     NOT NULL CHECK (quantity > 0),
  reserved_at timestamptz NOT NULL DEFAULT now(),
  released_at timestamptz,
  PRIMARY KEY (order_id, product_id)
);

-- Orders known to be canceled: an order.created that arrives after its order.canceled (they are
-- different topics, so no order between them is guaranteed) must not reserve stock for ever.
CREATE TABLE product.canceled_orders (
  order_id    text        PRIMARY KEY,
  canceled_at timestamptz NOT NULL DEFAULT now()
);
