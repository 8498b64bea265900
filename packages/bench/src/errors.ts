/** The benchmarks' failures, one class each (the name is the code). */
import { AtollError } from '@atoll/core'

/** A file or line a suite's own processes exchange is not what the suite wrote (names the field). */
export class BenchInputError extends AtollError {}

/** A process a suite started (a coordinator, a testnet) failed; the message carries what it said. */
export class BenchProcessError extends AtollError {}
