import {BaseCommand} from '../base-command.js'
import {ExitCode} from '../lib/errors.js'
import {doctor, type DoctorResult} from '../operations/doctor.js'
import {renderDoctor} from '../ui/text/platform.js'

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Preflight checks, each problem with its fix; exit 3 when one fails'
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json']

  public async run(): Promise<DoctorResult> {
    const result = this.present(await doctor(this.mm), renderDoctor)
    if (!result.ok) this.exitWith(ExitCode.preflight)
    return result
  }
}
