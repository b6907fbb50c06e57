import type {OrderData} from '../shared/events.js'
import {writeModelReader} from '../shared/write-model.js'
import {type OrderRow, orderData, SCHEMA, toOrder} from './domain.js'

/** An order row with its lines, gathered in the same query. */
interface OrderWithItemsRow extends OrderRow {
  items: {product_id: string; quantity: number; unit_price_cents: number | string}[]
}

/**
 * Orders as the read model should show them (read only): each row with its lines as the OrderData
 * that order publishes for its version (the same mapping as its events: toOrder, orderData).
 * query's verify and rebuild read the write model through this; it does not load the repository,
 * which brings the outbox relay with it.
 */
export const orderSource = writeModelReader<OrderWithItemsRow, OrderData>({
  from: `"${SCHEMA}".orders t`,
  columns: `t.id, t.customer_id, t.status, t.total_cents, t.version, t.created_at, t.updated_at, t.paid_at, t.canceled_at, t.cancel_reason,
    COALESCE((SELECT json_agg(json_build_object('product_id', i.product_id, 'quantity', i.quantity, 'unit_price_cents', i.unit_price_cents) ORDER BY i.line)
              FROM "${SCHEMA}".order_items i WHERE i.order_id = t.id), '[]') AS items`,
  data: (r) =>
    orderData(
      toOrder(
        r,
        r.items.map((i) => ({product_id: i.product_id, quantity: i.quantity, unit_price_cents: Number(i.unit_price_cents)})),
      ),
    ),
})
