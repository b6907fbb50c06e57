import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {down, type DownResult} from '../operations/down.js'
import {renderDown} from '../ui/text/platform.js'

export default class Down extends BaseCommand<typeof Down> {
  static override summary = 'Stop the runners and the infrastructure'
  static override examples = ['<%= config.bin %> down', '<%= config.bin %> down -v']
  static override flags = {
    volumes: Flags.boolean({char: 'v', env: 'MM_DOWN_VOLUMES', description: 'also delete all data (.mm/)'}),
  }

  public async run(): Promise<DownResult> {
    return this.present(await down({config: this.mm, logger: this.logger, volumes: this.flags.volumes}), renderDown)
  }
}
