import {type ComponentTopology, MONGO_DATABASE} from '../shared/topology.js'

/** The Kafka consumer group the projector reads every domain topic in. */
export const QUERY_GROUP = 'query'

/** query (PLATFORM.md §3.4): the read model's database and the indexes its API reads through. */
export const queryTopology: ComponentTopology = {
  mongoDatabase: MONGO_DATABASE,
  mongoIndexes: [
    {collection: 'orders_view', keys: {'customer.id': 1, created_at: -1}, name: 'by_customer_newest'},
    {collection: 'orders_view', keys: {status: 1, created_at: -1}, name: 'by_status_newest'},
    {collection: 'orders_view', keys: {created_at: -1}, name: 'newest'},
    {collection: 'orders_view', keys: {'items.product_id': 1}, name: 'by_item_product'},
    {collection: 'products_view', keys: {sku: 1}, name: 'by_sku'},
    {collection: 'customers_view', keys: {email: 1}, name: 'by_email'},
  ],
}
