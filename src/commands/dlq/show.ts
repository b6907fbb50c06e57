import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {dlqCatalog, type DlqShowResult, requireEndpoints, resolveDlq, showDlq} from '../../operations/dlq/index.js'
import {renderDlqShow} from '../../ui/text/dlq.js'

export default class DlqShow extends BaseCommand<typeof DlqShow> {
  static override summary = 'Messages of a DLQ with their error headers, read without consuming them'
  static override description =
    'Shows key (Kafka) or message id (RabbitMQ), value, error class and message, attempts, where it failed and how often it was replayed. Kafka messages are read by a throwaway consumer group that never commits (oldest first); RabbitMQ messages are fetched and requeued in place. --json has the full values and headers.'
  static override examples = ['<%= config.bin %> dlq show order.created.dlq', '<%= config.bin %> dlq show pulses.dlq -n 5 --json']
  static override args = {
    dlq: Args.string({required: true, description: 'DLQ name (or the topic/queue it belongs to); mm dlq list shows them'}),
  }
  static override flags = {
    limit: Flags.integer({char: 'n', min: 1, default: 20, env: 'MM_DLQ_SHOW_LIMIT', description: 'messages to show'}),
  }

  public async run(): Promise<DlqShowResult> {
    resolveDlq(this.args.dlq, dlqCatalog()) // an unknown name is a usage error before anything is reached
    const endpoints = await requireEndpoints(this.mm, this.logger)
    return this.present(await showDlq({endpoints, logger: this.logger, dlq: this.args.dlq, limit: this.flags.limit}), renderDlqShow)
  }
}
