/** Failures of a training job between its coordinator and its workers; `name` is the code. */
import { AtollError } from '@atoll/core'

/** A step was aborted (by the coordinator, or because the job stopped) while the stage waited on it. */
export class JobAbortedError extends AtollError {}

/** An assignment a worker refuses: an unknown coordinator, a malformed stage, blobs that do not match. */
export class JobAssignmentError extends AtollError {}

/** A request for a job the worker does not run, or for a step it is not at. */
export class JobStateError extends AtollError {}

/** A worker failed a step or stopped answering; the message names it. */
export class WorkerLostError extends AtollError {}

/** A step was aborted everywhere; `lost` names the peers that failed it (empty: none was lost). */
export class StepFailedError extends AtollError {
  readonly step: number
  readonly lost: readonly string[]
  constructor(message: string, step: number, lost: readonly string[]) {
    super(message)
    this.step = step
    this.lost = lost
  }
}

/** A job checkpoint that cannot be read, belongs to another job or does not match its manifest. */
export class JobCheckpointError extends AtollError {}
