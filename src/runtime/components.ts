import {UsageError} from '../lib/errors.js'
import type {ComponentConfig, Runner} from './runner.js'

/** The components in start order (PLATFORM.md §3); each lives in services/<name>. */
export const COMPONENTS = ['customer', 'product', 'order', 'query', 'ingest'] as const
export type ComponentName = (typeof COMPONENTS)[number]

/** Where `mm run <component>` listens by default (the gateway of `mm up` is 8080). */
export const DEFAULT_PORTS: Record<ComponentName, number> = {customer: 8081, product: 8082, order: 8083, query: 8084, ingest: 8085}

/**
 * Builds a component's runner with its dependencies: mm's configuration (each component takes its
 * slice) and the clients of the real servers. Loads the component's module (and the clients') only
 * when it runs, so commands that run none stay fast.
 */
export const loadRunner = async (name: ComponentName, config: ComponentConfig): Promise<Runner> => {
  const deps = {config, clients: (await import('../../services/shared/component.js')).serverClients}
  switch (name) {
    case 'customer':
      return (await import('../../services/customer/index.js')).createCustomerRunner(deps)
    case 'product':
      return (await import('../../services/product/index.js')).createProductRunner(deps)
    case 'order':
      return (await import('../../services/order/index.js')).createOrderRunner(deps)
    case 'query':
      return (await import('../../services/query/index.js')).createQueryRunner(deps)
    case 'ingest':
      return (await import('../../services/ingest/index.js')).createIngestRunner(deps)
  }
}

export const buildRunners = async (config: ComponentConfig, names: readonly ComponentName[] = COMPONENTS): Promise<Runner[]> =>
  Promise.all(names.map((name) => loadRunner(name, config)))

/** Which runners `mm up [component…] [--exclude c]` starts; all five servers start regardless. */
export interface Selection {
  /** Components named on the command line (empty: all). */
  components: string[]
  /** Components named by --exclude. */
  excluded: string[]
}

/** Validates a selection; the runners it starts (in start order) and, for the others, why not. */
export const resolveSelection = (sel: Selection): {start: ComponentName[]; notStarted: {name: ComponentName; reason: string}[]} => {
  const unknown = [...sel.components, ...sel.excluded].filter((n) => !(COMPONENTS as readonly string[]).includes(n))
  if (unknown.length > 0) {
    const names = [...new Set(unknown)]
    throw new UsageError(
      `unknown component${names.length > 1 ? 's' : ''} ${names.map((n) => `"${n}"`).join(', ')}; valid names: ${COMPONENTS.join(', ')}`,
      'e.g. mm up customer product, or mm up --exclude ingest',
    )
  }
  const start: ComponentName[] = []
  const notStarted: {name: ComponentName; reason: string}[] = []
  for (const name of COMPONENTS) {
    if (sel.excluded.includes(name)) notStarted.push({name, reason: `excluded by mm up --exclude ${name}`})
    else if (sel.components.length > 0 && !sel.components.includes(name)) notStarted.push({name, reason: `not selected by mm up ${sel.components.join(' ')}`})
    else start.push(name)
  }
  if (start.length === 0) throw new UsageError('that selection leaves no runner to start', `choose among ${COMPONENTS.join(', ')}`)
  return {start, notStarted}
}
