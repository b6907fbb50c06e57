import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../lib/errors.js'
import {type DlqListResult, listDlqs, requireEndpoints} from '../../operations/dlq/index.js'
import {renderDlqList} from '../../ui/text/dlq.js'

export default class DlqList extends BaseCommand<typeof DlqList> {
  static override summary = 'Every DLQ on both brokers with its message count and top error classes'
  static override description =
    'Kafka <topic>.dlq topics and RabbitMQ <queue>.dlq queues. Kafka counts what is pending after the last replay or purge; top error classes come from the headers of the first 1000 pending messages. Reading changes nothing. Exit 1 when a broker cannot be reached.'
  static override examples = ['<%= config.bin %> dlq list', "<%= config.bin %> dlq list --json | jq '.dlqs[] | select(.messages > 0)'"]

  public async run(): Promise<DlqListResult> {
    const endpoints = await requireEndpoints(this.mm, this.logger)
    const result = this.present(await listDlqs({endpoints, logger: this.logger}), renderDlqList)
    if (result.dlqs.some((d) => d.error)) this.exitWith(ExitCode.failure)
    return result
  }
}
