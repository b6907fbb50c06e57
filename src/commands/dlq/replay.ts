import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../lib/errors.js'
import {dlqCatalog, replayDlq, type ReplayResult, requireEndpoints, resolveDlq} from '../../operations/dlq/index.js'
import {confirmation, renderDlqReplay, replayProgress} from '../../ui/text/dlq.js'

export default class DlqReplay extends BaseCommand<typeof DlqReplay> {
  static override summary = 'Send dead letters back to their original topic or queue'
  static override description =
    'Replays the messages in the DLQ when the command starts (never the ones that arrive meanwhile), keeping key, value and headers and stamping x-replay-count; messages already replayed --max-replays times stay in the DLQ. Kafka: replayed messages and the DLQ offsets commit together in one transaction per batch, so an interruption neither loses nor duplicates. RabbitMQ: acked only after the broker confirmed the republish. Asks y/N on a terminal; needs --yes otherwise. Ctrl-C stops between messages (exit 130).'
  static override examples = [
    '<%= config.bin %> dlq replay order.created.dlq --dry-run',
    '<%= config.bin %> dlq replay order.created.dlq',
    '<%= config.bin %> dlq replay pulses.dlq --yes --rate 50 --limit 1000',
  ]
  static override args = {
    dlq: Args.string({required: true, description: 'DLQ name (or the topic/queue it belongs to)'}),
  }
  static override flags = {
    'dry-run': Flags.boolean({env: 'MM_DLQ_DRY_RUN', description: 'print how many would be replayed and skipped; change nothing'}),
    yes: Flags.boolean({char: 'y', env: 'MM_DLQ_YES', description: 'do not ask (required without a terminal)'}),
    limit: Flags.integer({min: 1, env: 'MM_DLQ_REPLAY_LIMIT', description: 'replay at most N messages'}),
    rate: Flags.custom<number>({
      env: 'MM_DLQ_RATE',
      description: 'at most R messages per second',
      parse: async (input) => {
        const rate = Number(input)
        if (!Number.isFinite(rate) || rate <= 0) throw new Error(`--rate must be a positive number of messages per second (got "${input}")`)
        return rate
      },
    })(),
    'max-replays': Flags.integer({min: 1, default: 3, env: 'MM_DLQ_MAX_REPLAYS', description: 'leave messages already replayed this many times in the DLQ'}),
  }

  public async run(): Promise<ReplayResult> {
    resolveDlq(this.args.dlq, dlqCatalog()) // an unknown name is a usage error before anything is reached
    const dryRun = this.flags['dry-run']
    const confirm = dryRun ? undefined : confirmation('replay', this.flags.yes)
    const endpoints = await requireEndpoints(this.mm, this.logger)
    const progress = replayProgress()
    try {
      const result = await replayDlq({
        endpoints,
        logger: this.logger,
        dlq: this.args.dlq,
        dryRun,
        confirm,
        limit: this.flags.limit,
        rate: this.flags.rate,
        maxReplays: this.flags['max-replays'],
        signal: this.signal,
        onProgress: progress.update,
      })
      if (result.interrupted) this.exitWith(ExitCode.interrupted)
      else if (result.declined) this.exitWith(ExitCode.failure)
      return this.present(result, renderDlqReplay)
    } finally {
      progress.done()
    }
  }
}
