import type {ComponentTopology} from '../shared/topology.js'

/** product (PLATFORM.md §3.2): publishes product.* and the stock decisions. */
export const productTopology: ComponentTopology = {
  kafkaTopics: ['product.created', 'product.updated', 'stock.reserved', 'stock.rejected', 'stock.released'].map((name) => ({name, partitions: 3})),
  migrations: ['product'],
}
