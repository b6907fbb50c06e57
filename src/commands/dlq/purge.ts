import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../lib/errors.js'
import {dlqCatalog, purgeDlq, type PurgeResult, requireEndpoints, resolveDlq} from '../../operations/dlq/index.js'
import {confirmation, renderDlqPurge} from '../../ui/text/dlq.js'

export default class DlqPurge extends BaseCommand<typeof DlqPurge> {
  static override summary = 'Delete the messages of a DLQ'
  static override description =
    'Kafka: moves the DLQ replay offsets past every message present now (the records expire with the topic retention). RabbitMQ: purges the queue. Asks y/N on a terminal; needs --yes otherwise.'
  static override examples = ['<%= config.bin %> dlq purge order.created.dlq --dry-run', '<%= config.bin %> dlq purge pulses.dlq --yes']
  static override args = {
    dlq: Args.string({required: true, description: 'DLQ name (or the topic/queue it belongs to)'}),
  }
  static override flags = {
    'dry-run': Flags.boolean({env: 'MM_DLQ_DRY_RUN', description: 'print how many would be purged; change nothing'}),
    yes: Flags.boolean({char: 'y', env: 'MM_DLQ_YES', description: 'do not ask (required without a terminal)'}),
  }

  public async run(): Promise<PurgeResult> {
    resolveDlq(this.args.dlq, dlqCatalog()) // an unknown name is a usage error before anything is reached
    const dryRun = this.flags['dry-run']
    const confirm = dryRun ? undefined : confirmation('purge', this.flags.yes)
    const endpoints = await requireEndpoints(this.mm, this.logger)
    const result = await purgeDlq({endpoints, logger: this.logger, dlq: this.args.dlq, dryRun, confirm})
    if (result.declined) this.exitWith(ExitCode.failure)
    return this.present(result, renderDlqPurge)
  }
}
