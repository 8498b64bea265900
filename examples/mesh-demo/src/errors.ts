/** The demo's failures, one class each (the name is the code). */
import { AtollError } from '@atoll/core'

/** A peer process exited, or never said it was up, while the demo needed it. */
export class PeerProcessError extends AtollError {}

/** The demo was interrupted (Ctrl-C) before training began. */
export class DemoInterruptedError extends AtollError {}
