import { AtollError } from '@atoll/core'

/** A command-line mistake: printed with the program's usage, exit code 2. */
export class UsageError extends AtollError {}
