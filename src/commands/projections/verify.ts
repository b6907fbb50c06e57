import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {ENV} from '../../config/index.js'
import {durationFlag, durationSetting} from '../../flags.js'
import {ExitCode} from '../../lib/errors.js'
import {parseViews, requireEndpoints, verifyProjections, type VerifyResult} from '../../operations/projections/index.js'
import {projectionsProgress, renderVerify} from '../../ui/text/projections.js'

export default class ProjectionsVerify extends BaseCommand<typeof ProjectionsVerify> {
  static override summary = 'Prove the read model equals the write models, field by field; exit 1 when a document differs'
  static override description =
    "Waits for the read model to catch up with what the write models hold (or says it did not), then compares every document of orders_view, products_view and customers_view (default: all three) with the document the write models call for, built by the projector's own code: status, totals, items with their skus and names, customers, timestamps, stock, orders_count, version. Streams page by page. A document that differs while its newest event is still on the way is read again until it settles. Prints a summary per view and the first --limit differences with both values; the run is recorded for mm status and mm dash."
  static override examples = [
    '<%= config.bin %> projections verify',
    '<%= config.bin %> projections verify orders_view --limit 5',
    '<%= config.bin %> projections verify --json | jq .views',
  ]
  static override strict = false
  static override args = {
    view: Args.string({description: 'views to check: orders_view, products_view, customers_view (or orders, products, customers); default all'}),
  }
  static override flags = {
    limit: Flags.integer({min: 0, default: 20, env: 'MM_PROJECTIONS_LIMIT', description: 'show the first N differences'}),
    timeout: durationFlag({env: ENV.waitTimeout, description: 'how long to wait for the read model to catch up first (e.g. 30s; default 2m)'}),
  }

  protected override configFlags() {
    return {waitTimeout: durationSetting(this.flags.timeout)}
  }

  public async run(): Promise<VerifyResult> {
    const {argv} = await this.parse(ProjectionsVerify)
    const views = parseViews(argv as string[])
    const endpoints = await requireEndpoints(this.mm, this.logger)
    const progress = projectionsProgress()
    try {
      const result = await verifyProjections(
        {endpoints, logger: this.logger},
        {views, limit: this.flags.limit, timeoutMs: this.mm.waitTimeoutMs, signal: this.signal, onProgress: progress.update},
      )
      progress.done()
      if (result.interrupted) this.exitWith(ExitCode.interrupted)
      else if (!result.ok) this.exitWith(ExitCode.failure)
      return this.present(result, renderVerify)
    } finally {
      progress.done()
    }
  }
}
