/** One sub-command of `atoll`: a name, a one-line summary, its usage text, and what it does. */
import type { Program } from '@atoll/flags'

export interface Command extends Program {
  summary: string
}
