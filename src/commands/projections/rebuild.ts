import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {ENV} from '../../config/index.js'
import {durationFlag, durationSetting} from '../../flags.js'
import {ExitCode} from '../../lib/errors.js'
import {parseViews, rebuildProjections, type RebuildResult, requireEndpoints} from '../../operations/projections/index.js'
import {projectionsProgress, rebuildConfirmation, renderRebuild} from '../../ui/text/projections.js'

export default class ProjectionsRebuild extends BaseCommand<typeof ProjectionsRebuild> {
  static override summary = 'Rebuild the views from the write models on a running platform, then verify them'
  static override description =
    'Builds each view (default: all three) from the write models into a shadow collection while the platform keeps running, applies what changed meanwhile, then swaps it in: renamed in one step on MongoDB, copied document by document where the server cannot rename atomically (mongo-java-server); readers never see a half-built view, and events that arrive during the rebuild are applied after it. Ends with mm projections verify. Ctrl-C before the swap leaves the live views untouched (exit 130). Asks y/N on a terminal; needs --yes otherwise.'
  static override examples = [
    '<%= config.bin %> projections rebuild --dry-run',
    '<%= config.bin %> projections rebuild',
    '<%= config.bin %> projections rebuild orders_view --yes --json',
  ]
  static override strict = false
  static override args = {
    view: Args.string({description: 'views to rebuild: orders_view, products_view, customers_view (or orders, products, customers); default all'}),
  }
  static override flags = {
    yes: Flags.boolean({char: 'y', env: 'MM_PROJECTIONS_YES', description: 'do not ask (required without a terminal)'}),
    'dry-run': Flags.boolean({env: 'MM_PROJECTIONS_DRY_RUN', description: 'print what would be rebuilt and how it would be swapped in; change nothing'}),
    limit: Flags.integer({min: 0, default: 20, env: 'MM_PROJECTIONS_LIMIT', description: 'show the first N differences of the verify at the end'}),
    timeout: durationFlag({env: ENV.waitTimeout, description: 'how long the verify at the end waits for the read model to catch up (e.g. 30s; default 2m)'}),
  }

  protected override configFlags() {
    return {waitTimeout: durationSetting(this.flags.timeout)}
  }

  public async run(): Promise<RebuildResult> {
    const {argv} = await this.parse(ProjectionsRebuild)
    const views = parseViews(argv as string[])
    const dryRun = this.flags['dry-run']
    const confirm = dryRun ? undefined : rebuildConfirmation(this.flags.yes)
    const endpoints = await requireEndpoints(this.mm, this.logger)
    const progress = projectionsProgress()
    try {
      const result = await rebuildProjections(
        {endpoints, logger: this.logger},
        {views, dryRun, confirm, limit: this.flags.limit, timeoutMs: this.mm.waitTimeoutMs, signal: this.signal, onProgress: progress.update},
      )
      progress.done()
      if (result.interrupted || result.verify?.interrupted) this.exitWith(ExitCode.interrupted)
      else if (result.declined || (!result.dryRun && !result.ok)) this.exitWith(ExitCode.failure)
      return this.present(result, renderRebuild)
    } finally {
      progress.done()
    }
  }
}
