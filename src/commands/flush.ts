import {BaseCommand} from '../base-command.js'
import {formatDuration} from '../lib/duration.js'
import {type CliFlushResult, flush} from '../operations/flush.js'

export default class Flush extends BaseCommand<typeof Flush> {
  static override summary = 'Run one ingest flush now (Redis aggregates → ingest.pulses); safe alongside the scheduled one'
  static override examples = ['<%= config.bin %> flush', '<%= config.bin %> flush --json']

  public async run(): Promise<CliFlushResult> {
    return this.present(await flush(this.mm, this.logger), (r) =>
      r.flushId === null && r.resumed.length === 0
        ? 'nothing to flush'
        : `flushed ${r.keys} keys into ${r.rows} rows in ${formatDuration(r.durationMs)}${r.resumed.length ? ` (also finished interrupted flushes: ${r.resumed.join(', ')})` : ''}${r.by === 'runner' ? ' by the ingest runner' : ''}`,
    )
  }
}
