-- Persisted usage totals (PLATFORM.md §3.5): one row per (tenant, product_sku, use_unity).
CREATE TABLE ingest.pulses (
  id          bigserial PRIMARY KEY,
  tenant      text          NOT NULL,
  product_sku text          NOT NULL,
  use_unity   text          NOT NULL,
  used_amount numeric(38, 12) NOT NULL DEFAULT 0 CHECK (used_amount >= 0),
  updated_at  timestamptz   NOT NULL DEFAULT now(),
  UNIQUE (tenant, product_sku, use_unity)
);
