/** The demo's failures, one class each (the name is the code); a peer process's is @atoll/testnet's. */
import { AtollError } from '@atoll/core'

/** The demo was interrupted (Ctrl-C) before training began. */
export class DemoInterruptedError extends AtollError {}
