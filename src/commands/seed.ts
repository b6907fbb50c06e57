import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {platformApi} from '../operations/api.js'
import {seed, type SeedResult} from '../operations/seed.js'
import {table} from '../ui/table.js'

export default class Seed extends BaseCommand<typeof Seed> {
  static override summary = 'Create deterministic seed customers and products (idempotent)'
  static override examples = ['<%= config.bin %> seed', '<%= config.bin %> seed --customers 100 --products 200 --json', '<%= config.bin %> seed --reset']
  static override flags = {
    customers: Flags.integer({env: 'MM_SEED_CUSTOMERS', default: 20, min: 0, description: 'seed customers to ensure'}),
    products: Flags.integer({env: 'MM_SEED_PRODUCTS', default: 50, min: 0, description: 'seed products to ensure'}),
    reset: Flags.boolean({env: 'MM_SEED_RESET', description: 'restore seed values (names, prices, stock) of seeded records'}),
  }

  public async run(): Promise<SeedResult> {
    const result = await seed({api: platformApi(this.mm), customers: this.flags.customers, products: this.flags.products, reset: this.flags.reset})
    return this.present(result, (r) =>
      table(
        ['KIND', 'CREATED', 'FOUND', 'RESET'],
        (['customers', 'products'] as const).map((k) => [k, String(r[k].created), String(r[k].found), String(r[k].reset)]),
      ),
    )
  }
}
