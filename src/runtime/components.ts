import type {Runner} from './runner.js'

/**
 * The platform's runners in start order (customer, product, order, query, ingest). Each component
 * lives in services/<name> and is built by its factory here; see PLATFORM.md §3.
 */
export const buildRunners = (): Runner[] => []
