/** One sub-command of `atoll`: a name, a one-line summary, its usage text, and what it does. */
import { AtollError } from '@atoll/core'
export interface Command {
  name: string
  summary: string
  usage: string
  run(args: string[]): Promise<number>
}

/** A command-line mistake: printed with the command's usage, exit code 2. */
export class UsageError extends AtollError {}
