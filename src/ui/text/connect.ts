import type {ConnectResult} from '../../operations/connect.js'
import {style} from '../terminal.js'

/** stdout: the command to run (and, for RabbitMQ, the management UI). */
export const renderConnect = (r: ConnectResult): string => {
  const lines: string[] = []
  if (r.management) lines.push(`management UI ${r.management.url} (log in as ${r.management.username}, password ${r.management.password})`)
  if (r.installed || r.server !== 'rabbitmq') lines.push(r.command)
  return lines.join('\n')
}

/** stderr: why the command was printed rather than run, and how to install a missing client. */
export const connectNotes = (r: ConnectResult, wantedToRun: boolean): string[] => {
  const notes: string[] = []
  const masked = r.command.includes('***') || r.management?.password === '***'
  if (!r.installed) {
    notes.push(
      `${r.server === 'rabbitmq' ? style.yellow('!') : style.red('✖')} ${r.client} is not installed${r.server === 'rabbitmq' ? '; the management UI above needs only a browser' : ''}`,
    )
    notes.push(`  ${style.dim('→')} ${r.install}${r.server === 'rabbitmq' ? `; then: ${r.command}` : ''}`)
  } else if (!wantedToRun) notes.push(style.dim('# not a terminal: printed the command instead of running it (pass --exec to run it)'))
  if (masked) notes.push(style.dim('# passwords are masked (***): pass --reveal to print them'))
  return notes
}
