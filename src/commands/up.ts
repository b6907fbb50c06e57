import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {ENV, INFRA_MODES} from '../config/index.js'
import {durationFlag, durationSetting} from '../flags.js'
import {InterruptedError} from '../lib/errors.js'
import {untilAborted} from '../lib/proc.js'
import {up, type UpResult} from '../operations/up.js'
import {COMPONENTS} from '../runtime/components.js'
import {renderUp} from '../ui/text/platform.js'
import {progressPrinter} from '../ui/progress.js'

export default class Up extends BaseCommand<typeof Up> {
  static override summary = 'Bring the platform up: infrastructure, migrations, topology, runners'
  static override description =
    'Starts PostgreSQL, Redis, RabbitMQ, Kafka and MongoDB (docker compose when a Docker engine answers, otherwise as native processes), applies migrations and topology, starts the runners and streams their logs until Ctrl-C. With -d it leaves a supervisor in the background. On a platform already up it reports status and exits 0.'
  static override examples = [
    '<%= config.bin %> up',
    '<%= config.bin %> up -d --infra native',
    '<%= config.bin %> up --wait-timeout 3m',
    '<%= config.bin %> up -d customer product',
    '<%= config.bin %> up --exclude ingest',
  ]
  static override strict = false
  static override args = {component: Args.string({description: `runners to start (default: all of ${COMPONENTS.join(', ')}); the five servers always start`})}
  static override flags = {
    infra: Flags.string({options: [...INFRA_MODES], env: ENV.infra, description: 'where the servers come from'}),
    'wait-timeout': durationFlag({env: ENV.waitTimeout, description: 'how long to wait for readiness (e.g. 90s, 3m); exit 4 past it'}),
    detach: Flags.boolean({char: 'd', env: 'MM_DETACH', description: 'leave a supervisor running in the background and return'}),
    'http-port': Flags.integer({env: ENV.httpPort, description: 'gateway port (0 = any free port)'}),
    // Its MM_EXCLUDE twin (comma-separated) is read by src/config, where flags win over it.
    exclude: Flags.string({multiple: true, delimiter: ',', description: 'a runner not to start (repeatable, or comma-separated; env: MM_EXCLUDE)'}),
  }

  protected override configFlags() {
    return {
      infra: this.flags.infra,
      waitTimeout: durationSetting(this.flags['wait-timeout']),
      httpPort: this.flags['http-port'],
      exclude: this.flags.exclude?.join(','),
    }
  }

  public async run(): Promise<Omit<UpResult, 'host' | 'infra'>> {
    const {argv} = await this.parse(Up)
    const selection = {components: argv as string[], excluded: [...this.mm.exclude]}
    const result = await up({
      config: this.mm,
      logger: this.logger,
      mode: this.mm.infra,
      detach: this.flags.detach,
      signal: this.signal,
      onProgress: progressPrinter(),
      selection,
    })
    const {host, infra, ...printable} = result
    this.present(printable, renderUp)
    if (host && infra) {
      this.logger.info('up.streaming', {hint: 'Ctrl-C stops everything'})
      await untilAborted(this.signal)
      this.logger.info('up.stopping')
      await host.stop()
      const {down} = await import('../operations/down.js')
      await down({config: this.mm, logger: this.logger, volumes: false})
      throw new InterruptedError('stopped by Ctrl-C')
    }
    return printable
  }
}
