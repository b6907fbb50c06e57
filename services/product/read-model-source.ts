import type {ProductData} from '../shared/events.js'
import {writeModelReader} from '../shared/write-model.js'
import {type ProductRow, SCHEMA, toProduct} from './domain.js'

/**
 * Products as the read model should show them (read only): each row as the ProductData that
 * product publishes for its version. query's verify and rebuild read the write model through this.
 */
export const productSource = writeModelReader<ProductRow, ProductData>({
  from: `"${SCHEMA}".products t`,
  columns: 't.id, t.sku, t.name, t.price_cents, t.stock, t.version, t.created_at, t.updated_at',
  data: toProduct,
})
