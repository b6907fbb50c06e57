/**
 * Data of every domain event (the `data` of the envelope). Events carry the aggregate's full
 * state after the change, so a projection can apply the newest version and drop older ones.
 */
export interface CustomerData {
  id: string
  name: string
  email: string
  address: string | null
  orders_count: number
  created_at: string
  updated_at: string
}

export interface ProductData {
  id: string
  sku: string
  name: string
  price_cents: number
  stock: number
  created_at: string
  updated_at: string
}

export type OrderStatus = 'PENDING' | 'RESERVED' | 'PAID' | 'CANCELED'

export interface OrderItem {
  product_id: string
  quantity: number
  unit_price_cents: number
}

export interface OrderData {
  id: string
  customer_id: string
  status: OrderStatus
  total_cents: number
  items: OrderItem[]
  created_at: string
  updated_at: string
  paid_at: string | null
  canceled_at: string | null
  cancel_reason: string | null
}

/** stock.reserved and stock.released (aggregate: the order). */
export interface StockData {
  order_id: string
  items: {product_id: string; quantity: number}[]
}

export interface StockRejectedData {
  order_id: string
  product_id: string
  reason: string
}

/** Body of `order.created` on the RabbitMQ exchange `events` (PLATFORM.md §3.3). */
export interface OrderCreatedMessage {
  event: 'order_created'
  data: {order_id: string; customer_id: string}
  timestamp: string
}
