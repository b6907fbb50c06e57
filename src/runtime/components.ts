import type {Runner} from './runner.js'

/** The components in start order (PLATFORM.md §3); each lives in services/<name>. */
export const COMPONENTS = ['customer', 'product', 'order', 'query', 'ingest'] as const
export type ComponentName = (typeof COMPONENTS)[number]

/** Where `mm run <component>` listens by default (the gateway of `mm up` is 8080). */
export const DEFAULT_PORTS: Record<ComponentName, number> = {customer: 8081, product: 8082, order: 8083, query: 8084, ingest: 8085}

/** Loads a component's module only when it runs, so commands that run none stay fast. */
export const loadRunner = async (name: ComponentName): Promise<Runner> => {
  switch (name) {
    case 'customer':
      return (await import('../../services/customer/index.js')).createCustomerRunner()
    case 'product':
      return (await import('../../services/product/index.js')).createProductRunner()
    case 'order':
      return (await import('../../services/order/index.js')).createOrderRunner()
    case 'query':
      return (await import('../../services/query/index.js')).createQueryRunner()
    case 'ingest':
      return (await import('../../services/ingest/index.js')).createIngestRunner()
  }
}

export const buildRunners = async (names: readonly ComponentName[] = COMPONENTS): Promise<Runner[]> => Promise.all(names.map(loadRunner))
