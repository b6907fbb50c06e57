import {stripVTControlCharacters} from 'node:util'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {followLogs, logSources, readLogs} from '../operations/logs.js'

export default class Logs extends BaseCommand<typeof Logs> {
  static override summary = 'Merged, prefixed logs of the running platform'
  static override examples = ['<%= config.bin %> logs', '<%= config.bin %> logs kafka -n 50', '<%= config.bin %> logs -f']
  static override strict = false
  static override enableJsonFlag = false
  static override args = {component: Args.string({description: 'servers or runners to show (default: all)'})}
  static override flags = {
    follow: Flags.boolean({char: 'f', env: 'MM_LOGS_FOLLOW', description: 'keep printing new lines'}),
    lines: Flags.integer({
      char: 'n',
      env: 'MM_LOGS_LINES',
      default: 20,
      min: 0,
      description: 'lines per source to show first (0: none, with -f only what comes next)',
    }),
  }

  public async run(): Promise<void> {
    const {argv} = await this.parse(Logs)
    const sources = logSources(this.mm.dataDir, argv as string[])
    // Servers colour their own lines (RabbitMQ does): the colours stay on a terminal only.
    const write = process.stdout.isTTY
      ? (line: string) => process.stdout.write(line + '\n')
      : (line: string) => process.stdout.write(stripVTControlCharacters(line) + '\n')
    for (const line of readLogs(sources, this.flags.lines)) write(line)
    if (!this.flags.follow) return
    await followLogs(sources, write, this.signal)
  }
}
