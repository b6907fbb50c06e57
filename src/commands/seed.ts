import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {platformApi} from '../operations/api.js'
import {seed, type SeedResult} from '../operations/seed.js'
import {ExitCode} from '../lib/errors.js'
import {createProgress} from '../ui/load-progress.js'
import {table} from '../ui/table.js'

/** Seed data is for trying the platform: past this, the API calls take minutes. */
const MAX_SEED = 100_000
const PROGRESS_FROM = 500

export default class Seed extends BaseCommand<typeof Seed> {
  static override summary = 'Create deterministic seed customers and products (idempotent)'
  static override examples = ['<%= config.bin %> seed', '<%= config.bin %> seed --customers 100 --products 200 --json', '<%= config.bin %> seed --reset']
  static override flags = {
    customers: Flags.integer({env: 'MM_SEED_CUSTOMERS', default: 20, min: 0, max: MAX_SEED, description: 'seed customers to ensure (at most 100,000)'}),
    products: Flags.integer({env: 'MM_SEED_PRODUCTS', default: 50, min: 0, max: MAX_SEED, description: 'seed products to ensure (at most 100,000)'}),
    reset: Flags.boolean({env: 'MM_SEED_RESET', description: 'restore seed values (names, prices, stock) of seeded records'}),
  }

  public async run(): Promise<SeedResult> {
    const total = this.flags.customers + this.flags.products
    // A seed of a few hundred records takes a second or two; a larger one says how far it got.
    const progress = total >= PROGRESS_FROM ? createProgress({label: 'seed', total, unit: 'records'}) : undefined
    const result = await seed({
      api: platformApi(this.mm),
      customers: this.flags.customers,
      products: this.flags.products,
      reset: this.flags.reset,
      signal: this.signal,
      onProgress: progress && ((done) => progress.update(done)),
    })
    progress?.stop()
    if (this.signal.aborted) this.exitWith(ExitCode.interrupted)
    return this.present(result, (r) =>
      table(
        ['KIND', 'CREATED', 'FOUND', 'RESET'],
        (['customers', 'products'] as const).map((k) => [k, String(r[k].created), String(r[k].found), String(r[k].reset)]),
      ),
    )
  }
}
