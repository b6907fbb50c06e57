-- Customers (PLATFORM.md §3.1). `version` is the aggregate version carried by every event.
CREATE TABLE customer.customers (
  id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text        NOT NULL CHECK (length(btrim(name)) > 0),
  email        text        NOT NULL,
  address      text,
  orders_count integer     NOT NULL DEFAULT 0 CHECK (orders_count >= 0),
  version      integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- One customer per email address, whatever its case.
CREATE UNIQUE INDEX customers_email_key ON customer.customers (lower(email));

-- GET /customers lists newest first.
CREATE INDEX customers_newest ON customer.customers (created_at DESC, id DESC);
