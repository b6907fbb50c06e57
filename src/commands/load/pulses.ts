import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {resolveEndpoints} from '../../infra/platform.js'
import {ExitCode, UserError} from '../../lib/errors.js'
import {loadPulses, type LoadPulsesResult} from '../../operations/load/pulses.js'
import {createProgress} from '../../ui/load-progress.js'
import {renderLoadPulses} from '../../ui/text/load.js'

export default class LoadPulses extends BaseCommand<typeof LoadPulses> {
  static override summary = 'Publish usage pulses to RabbitMQ (with confirms) and print the totals they add up to'
  static override examples = [
    '<%= config.bin %> load pulses --total 10000',
    '<%= config.bin %> load pulses --total 5000 --rate 500 --invalid-ratio 0.01 --json',
  ]
  static override flags = {
    total: Flags.integer({env: 'MM_LOAD_TOTAL', default: 1000, min: 1, description: 'pulses to publish'}),
    rate: Flags.integer({env: 'MM_LOAD_RATE', default: 0, min: 0, description: 'pulses per second (0 = as fast as confirms allow)'}),
    workers: Flags.integer({env: 'MM_LOAD_WORKERS', default: 4, min: 1, description: 'concurrent publishing channels'}),
    tenants: Flags.integer({env: 'MM_LOAD_TENANTS', default: 5, min: 1, description: 'distinct tenants the pulses are spread over (tenant-1 …)'}),
    skus: Flags.integer({env: 'MM_LOAD_SKUS', default: 10, min: 1, description: 'distinct product SKUs per tenant (SKU-0001 …)'}),
    units: Flags.string({env: 'MM_LOAD_UNITS', default: 'requests,gb-hours', description: 'comma-separated use_unity values'}),
    'invalid-ratio': Flags.string({env: 'MM_LOAD_INVALID_RATIO', default: '0', description: 'fraction of invalid pulses (0..1), to exercise the DLQ'}),
    seed: Flags.integer({env: 'MM_LOAD_SEED', description: 'make the generated pulses reproducible'}),
  }

  public async run(): Promise<LoadPulsesResult> {
    const endpoints = await resolveEndpoints(this.mm, this.logger)
    if (!endpoints) throw new UserError('the platform is not running', 'start it with mm up -d')
    const invalidRatio = Number(this.flags['invalid-ratio'])
    const progress = createProgress({label: 'pulses', total: this.flags.total, unit: 'pulses'})
    const result = await loadPulses({
      endpoints,
      logger: this.logger,
      signal: this.signal,
      total: this.flags.total,
      rate: this.flags.rate,
      workers: this.flags.workers,
      tenants: this.flags.tenants,
      skus: this.flags.skus,
      units: this.flags.units
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
      invalidRatio: Number.isFinite(invalidRatio) ? invalidRatio : -1,
      seed: this.flags.seed,
      onProgress: (p) => progress.update(p.published),
    })
    progress.update(result.published)
    progress.stop()
    for (const w of result.warnings) this.logger.warn('load.warning', {message: w})
    if (this.signal.aborted) this.exitWith(ExitCode.interrupted)
    return this.present(result, renderLoadPulses)
  }
}
