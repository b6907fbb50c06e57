import {mkdirSync} from 'node:fs'
import {join} from 'node:path'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {durationFlag} from '../flags.js'
import {requireEndpoints} from '../infra/platform.js'
import {createLogger, fileSink} from '../lib/logger.js'
import {collectDashSnapshot, type DashSnapshot} from '../operations/collectors/dash-snapshot.js'
import {recentTraces} from '../operations/collectors/traces.js'
import {TREND_SAMPLES} from '../operations/collectors/trends.js'
import {createDashSource} from '../operations/dash.js'
import type {PlatformStatus} from '../operations/status.js'
import {terminal} from '../ui/terminal.js'
import {renderStatus} from '../ui/text/platform.js'

export default class Dash extends BaseCommand<typeof Dash> {
  static override summary = 'Live dashboard: services, queues and lag, projections, Redis aggregates, event feed'
  static override description =
    'A full-screen view of the whole event path, refreshed about once a second (polls never overlap). Without a terminal (pipe, CI) it prints one snapshot and exits; --once forces that; --json prints the snapshot as JSON: the same numbers as mm status --json, plus "traces" (the Traces panel: the failed and the slowest traces of the last 5 minutes) and "trends" (the Trends panel: per measure the current value, the maximum and the series of --samples polls taken --interval apart).'
  static override examples = [
    '<%= config.bin %> dash',
    '<%= config.bin %> dash --once',
    '<%= config.bin %> dash --json | jq .platform.queues',
    '<%= config.bin %> dash --json --samples 10 | jq .trends.measures.eventsPerSec',
  ]
  static override flags = {
    once: Flags.boolean({env: 'MM_DASH_ONCE', description: 'print one snapshot and exit'}),
    interval: durationFlag({env: 'MM_DASH_INTERVAL', default: 1000, defaultHelp: async () => '1s', min: 100, description: 'refresh interval (e.g. 1s, 500ms)'}),
    samples: Flags.integer({
      env: 'MM_DASH_SAMPLES',
      default: 1,
      min: 1,
      max: TREND_SAMPLES,
      description: 'with --json: trend samples to take, --interval apart, before printing (each is a rate since the poll before it)',
    }),
  }

  public async run(): Promise<DashSnapshot | PlatformStatus | void> {
    const intervalMs = this.flags.interval
    const interactive = terminal().interactive && !this.flags.once && !this.jsonEnabled()
    // Nothing may write to the terminal behind Ink's back: logs go to a file while it runs.
    mkdirSync(join(this.mm.dataDir, 'logs'), {recursive: true})
    const logger = interactive ? createLogger(fileSink(join(this.mm.dataDir, 'logs', 'dash.log')), this.mm.logLevel, 'dash') : this.logger
    // On screen, a refresh does not wait more than half a second for the views' counts (a large
    // read model takes seconds): the other panels show at once, the counts when they come.
    const source = createDashSource(this.mm, logger, {projectionsWaitMs: interactive ? 500 : undefined})
    if (!interactive) {
      try {
        if (this.jsonEnabled())
          return await collectDashSnapshot(
            {status: () => source.status(), traces: async () => recentTraces({endpoints: await requireEndpoints(this.mm, logger, 'no trace to read')})},
            {intervalMs, samples: this.flags.samples, signal: this.signal},
          )
        return this.present(await source.status(), renderStatus)
      } finally {
        await source.close()
      }
    }
    // React's development build checks every render (and allocates for it): half of an idle
    // dashboard's CPU went there. The production build, unless the user asked otherwise.
    process.env.NODE_ENV ??= 'production'
    const [{render}, {createElement}, {Dashboard}] = await Promise.all([import('ink'), import('react'), import('../ui/dash/dashboard.js')])
    const app = render(createElement(Dashboard, {source, intervalMs, interactive: true, onQuit: () => {}}), {exitOnCtrlC: false, patchConsole: true, maxFps: 4})
    await app.waitUntilExit()
    await source.close()
  }
}
