import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {ENV} from '../config/index.js'
import {InterruptedError} from '../lib/errors.js'
import {untilAborted} from '../lib/proc.js'
import {runComponent} from '../operations/run.js'
import {COMPONENTS, type ComponentName, DEFAULT_PORTS} from '../runtime/components.js'

export default class Run extends BaseCommand<typeof Run> {
  static override summary = 'Run one component alone (scale out by running more)'
  static override description = `Serves the component's HTTP API on its own port (default: ${Object.entries(DEFAULT_PORTS)
    .map(([c, p]) => `${c} ${p}`)
    .join(', ')}; a free port when taken) and runs its consumers until Ctrl-C, which finishes in-flight work first.`
  static override examples = ['<%= config.bin %> run order', '<%= config.bin %> run ingest --port 9000']
  static override enableJsonFlag = false
  static override args = {component: Args.string({required: true, options: [...COMPONENTS], description: 'the component to run'})}
  static override flags = {
    port: Flags.integer({env: 'MM_RUN_PORT', description: 'HTTP port (0 = any free port)'}),
    'api-url': Flags.string({env: ENV.apiUrl, description: 'the platform API for calls to other components (default: the mm up gateway)'}),
  }

  protected override configFlags() {
    return {apiUrl: this.flags['api-url']}
  }

  public async run(): Promise<void> {
    const component = this.args.component as ComponentName
    const host = await runComponent({config: this.mm, logger: this.logger, component, port: this.flags.port ?? DEFAULT_PORTS[component]})
    this.logger.info('run.ready', {component, url: host.gateway.url, hint: 'Ctrl-C stops it'})
    await untilAborted(this.signal)
    await host.stop()
    throw new InterruptedError(`${component} stopped`)
  }
}
