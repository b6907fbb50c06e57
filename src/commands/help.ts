import {Args, loadHelpClass} from '@oclif/core'

import {BaseCommand} from '../base-command.js'

export default class Help extends BaseCommand<typeof Help> {
  static override summary = 'Help for mm, a topic or a command (the same as --help)'
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help dlq replay']
  static override enableJsonFlag = false
  static override strict = false
  static override args = {command: Args.string({description: 'a topic or command, e.g. dlq replay'})}

  public async run(): Promise<void> {
    const {argv} = await this.parse(Help)
    const HelpClass = await loadHelpClass(this.config)
    await new HelpClass(this.config).showHelp(argv as string[])
  }
}
