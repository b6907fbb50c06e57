import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {UsageError} from '../lib/errors.js'
import {durationFlag} from '../flags.js'
import {requireEndpoints} from '../infra/platform.js'
import {listTraces, traceOf, type TraceListResult, type TraceResult} from '../operations/trace.js'
import {renderTrace, renderTraceList} from '../ui/text/trace.js'

export default class Trace extends BaseCommand<typeof Trace> {
  static override summary = 'Follow one order through the platform: a waterfall of its hops, and where it waits'
  static override description = `With an order id: every trace that worked on the order (its creation, its payment, …), one line per hop (the HTTP request, each publish from an outbox, each consumer that processed the event, dead letters) with its component, start offset, duration and the time it waited in the outbox or the broker; the first error is marked. Then where the order still waits: events not yet published, consumer groups that have not processed them (with their lag), dead letters, the read model's version against the write model's.
With a trace id (32 hex digits, as mm load orders prints for its slowest orders): that trace.
--slowest N and --failed list traces instead. Spans are kept in the platform's PostgreSQL (schema mm_trace) for MM_TRACE_RETENTION (default 1h); MM_TRACE_SAMPLE (default 0.1) sets the share of traces recorded: an order the sampler left out has no trace.`
  static override examples = [
    '<%= config.bin %> trace 0b7c4c1e-5f0e-4a43-9d1e-0b1f2f6f9a10',
    '<%= config.bin %> trace 4bf92f3577b34da6a3ce929d0e0e4736 --all',
    '<%= config.bin %> trace --slowest 10 --since 5m',
    '<%= config.bin %> trace --failed --json',
  ]
  static override args = {
    id: Args.string({description: 'an order id (or any aggregate id), or a trace id'}),
  }
  static override flags = {
    slowest: Flags.integer({min: 1, max: 1000, env: 'MM_TRACE_SLOWEST', exclusive: ['failed'], description: 'list the N slowest traces'}),
    failed: Flags.boolean({env: 'MM_TRACE_FAILED', exclusive: ['slowest'], description: 'list traces with a failed span'}),
    since: durationFlag({env: 'MM_TRACE_SINCE', min: 1000, description: 'with --slowest or --failed: traces started within this long (default 15m)'}),
    limit: Flags.integer({min: 1, max: 1000, env: 'MM_TRACE_LIMIT', description: 'with --failed: traces to list (default 20)'}),
    all: Flags.boolean({env: 'MM_TRACE_ALL', description: 'show every span, database calls too (by default they are folded into their hop)'}),
  }

  public async run(): Promise<TraceResult | TraceListResult> {
    const {id} = this.args
    const listing = this.flags.slowest !== undefined || this.flags.failed
    if (listing && id) throw new UsageError('give an id or --slowest/--failed, not both', 'mm trace <order-id>, or mm trace --slowest 10')
    if (!listing && !id) throw new UsageError('which order or trace?', 'mm trace <order-id|trace-id>, or mm trace --slowest 10 / --failed')
    if (!listing && (this.flags.since !== undefined || this.flags.limit !== undefined))
      throw new UsageError('--since and --limit go with --slowest or --failed', 'mm trace --slowest 10 --since 5m')
    const endpoints = await requireEndpoints(this.mm, this.logger, 'no trace to show')
    if (listing) {
      const result = await listTraces(
        {endpoints},
        {sinceMs: this.flags.since ?? 15 * 60_000, limit: this.flags.slowest ?? this.flags.limit ?? 20, failedOnly: this.flags.failed === true},
      )
      return this.present(result, renderTraceList)
    }
    const result = await traceOf({endpoints, logger: this.logger}, id!)
    return this.present(result, (r) => renderTrace(r, this.flags.all))
  }
}
