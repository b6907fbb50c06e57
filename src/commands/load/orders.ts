import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {durationFlag} from '../../flags.js'
import {ExitCode, UsageError} from '../../lib/errors.js'
import {resolveEndpoints} from '../../infra/platform.js'
import {platformApi} from '../../operations/api.js'
import {loadOrders, type LoadOrdersResult} from '../../operations/load/orders.js'
import {parseThreshold} from '../../operations/load/thresholds.js'
import {createProgress} from '../../ui/load-progress.js'
import {renderLoadOrders} from '../../ui/text/load.js'

export default class LoadOrders extends BaseCommand<typeof LoadOrders> {
  static override summary = 'Order traffic through the HTTP API: create → reserved → pay → visible as PAID in the read model'
  static override description =
    'Open model: --rate orders start per second whatever the platform does, at most --concurrency at once (the rest are counted as dropped). Latency is measured into an HDR histogram from POST /orders until /q/orders/:id shows PAID. Thresholds set the exit code (5 when broken).'
  static override examples = [
    '<%= config.bin %> load orders --rate 50 --duration 30s',
    "<%= config.bin %> load orders --total 200 --json --threshold 'p99<500ms' --threshold 'errors<1%'",
  ]
  static override flags = {
    rate: Flags.integer({
      env: 'MM_LOAD_RATE',
      default: 20,
      min: 0,
      max: 10_000,
      description: 'orders started per second, at most 10,000 (0 = as fast as --concurrency allows)',
    }),
    concurrency: Flags.integer({env: 'MM_LOAD_CONCURRENCY', default: 50, min: 1, description: 'orders in flight at most'}),
    duration: durationFlag({env: 'MM_LOAD_DURATION', exclusive: ['total'], min: 1000, description: 'how long to send (e.g. 30s); default 10s unless --total'}),
    total: Flags.integer({env: 'MM_LOAD_TOTAL', min: 1, exclusive: ['duration'], description: 'orders to send'}),
    warmup: durationFlag({
      env: 'MM_LOAD_WARMUP',
      default: 0,
      defaultHelp: async () => '0s',
      min: 0,
      description: 'orders started in this first period are not measured',
    }),
    percentiles: Flags.string({env: 'MM_LOAD_PERCENTILES', default: '50,90,99', description: 'latency percentiles to report'}),
    threshold: Flags.string({env: 'MM_LOAD_THRESHOLD', multiple: true, description: "e.g. 'p99<200ms', 'errors<1%' (exit 5 when broken)"}),
    'step-timeout': durationFlag({
      env: 'MM_LOAD_STEP_TIMEOUT',
      default: 30_000,
      defaultHelp: async () => '30s',
      min: 100,
      description: 'how long one order may wait to be reserved or to show as PAID',
    }),
    seed: Flags.integer({env: 'MM_LOAD_SEED', description: 'make the choice of customers and products reproducible'}),
  }

  public async run(): Promise<LoadOrdersResult> {
    const percentiles = this.flags.percentiles.split(',').map((p) => Number(p.trim()))
    if (percentiles.some((p) => !Number.isFinite(p) || p <= 0 || p > 100)) throw new UsageError(`--percentiles must be numbers in (0, 100], e.g. 50,90,99`)
    const thresholds = (this.flags.threshold ?? []).map(parseThreshold)
    const total = this.flags.total
    const durationMs = total === undefined ? (this.flags.duration ?? 10_000) : undefined
    const expected = total ?? Math.max(1, Math.round(((durationMs ?? 0) / 1000) * (this.flags.rate || 1)))
    const progress = createProgress({label: 'orders', total: expected, unit: 'orders'})
    const result = await loadOrders({
      api: platformApi(this.mm),
      redisUrl: (await resolveEndpoints(this.mm, this.logger))?.redis,
      signal: this.signal,
      rate: this.flags.rate,
      concurrency: this.flags.concurrency,
      durationMs,
      total,
      warmupMs: this.flags.warmup,
      percentiles,
      thresholds,
      stepTimeoutMs: this.flags['step-timeout'],
      seed: this.flags.seed,
      onProgress: (p) => progress.update(p.completed + p.errors, {errors: p.errors, 'in flight': p.inFlight}),
    })
    progress.stop()
    for (const w of result.warnings) this.logger.warn('load.warning', {message: w})
    if (this.signal.aborted) this.exitWith(ExitCode.interrupted)
    else if (result.thresholds.some((t) => !t.ok)) this.exitWith(ExitCode.thresholds)
    return this.present(result, renderLoadOrders)
  }
}
