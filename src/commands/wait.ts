import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {ENV} from '../config/index.js'
import {durationFlag, durationSetting} from '../flags.js'
import {ExitCode, InterruptedError} from '../lib/errors.js'
import {WAIT_CONDITIONS, type WaitCondition, type WaitResult, waitUntil} from '../operations/wait.js'
import {waitProgress} from '../ui/progress.js'
import {renderWait} from '../ui/text/wait.js'

export default class Wait extends BaseCommand<typeof Wait> {
  static override summary = 'Block until the platform is ready, or until nothing is in flight; exit 4 past the timeout'
  static override description =
    'ready: every server healthy and every runner mm up started is ready. drained: no unpublished outbox row (customer, product, order), RabbitMQ work queues with nothing ready or unacked, no Kafka consumer-group lag, and the read model caught up (seen twice in a row). Past --timeout it prints what is still pending and exits 4.'
  static override examples = [
    '<%= config.bin %> wait',
    '<%= config.bin %> load orders --total 500 && <%= config.bin %> wait --for drained && <%= config.bin %> status --json',
    '<%= config.bin %> wait --for drained --timeout 30s --json',
  ]
  static override flags = {
    for: Flags.string({options: [...WAIT_CONDITIONS], default: 'ready', env: 'MM_WAIT_FOR', description: 'what to wait for'}),
    timeout: durationFlag({env: ENV.waitTimeout, description: 'how long to wait (e.g. 30s, 2m; default 2m); exit 4 past it'}),
  }

  protected override configFlags() {
    return {waitTimeout: durationSetting(this.flags.timeout)}
  }

  public async run(): Promise<WaitResult> {
    const condition = this.flags.for as WaitCondition
    const progress = waitProgress(condition)
    const result = await waitUntil({
      config: this.mm,
      logger: this.logger,
      for: condition,
      timeoutMs: this.mm.waitTimeoutMs,
      signal: this.signal,
      onProgress: progress.update,
    }).finally(progress.done)
    if (this.signal.aborted) throw new InterruptedError('stopped waiting (Ctrl-C)')
    if (!result.reached) this.exitWith(ExitCode.readinessTimeout)
    return this.present(result, renderWait)
  }
}
