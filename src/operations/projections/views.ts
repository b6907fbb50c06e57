import {VIEW_COLLECTIONS, type ViewKey} from '../../../services/query/views.js'
import {UsageError} from '../../lib/errors.js'

const NAMES = Object.entries(VIEW_COLLECTIONS) as [ViewKey, string][]

/** `[view…]` of the projections commands: `orders_view` or `orders` (any of the three); none means all. */
export const parseViews = (args: readonly string[]): ViewKey[] | undefined => {
  if (args.length === 0) return undefined
  const keys = args.map((a) => {
    const hit = NAMES.find(([key, name]) => a === name || a === key)
    if (!hit) throw new UsageError(`unknown view "${a}"`, `the views are ${NAMES.map(([, n]) => n).join(', ')}`)
    return hit[0]
  })
  return [...new Set(keys)]
}
