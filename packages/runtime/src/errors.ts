/**
 * Runtime error classes: one per failure, `name` doubles as the code so callers branch on
 * `err.name` (js-libp2p style).
 */

/** An optimizer or schedule option outside its valid range (negative lr, beta ≥ 1, Nesterov without momentum). */
export class OptimizerConfigError extends Error {
  static override name = 'OptimizerConfigError'
  constructor(message: string) {
    super(message)
    this.name = 'OptimizerConfigError'
  }
}

/** Optimizer state that does not fit the parameters it is loaded into (missing buffer, wrong size, other kind). */
export class OptimizerStateError extends Error {
  static override name = 'OptimizerStateError'
  constructor(message: string) {
    super(message)
    this.name = 'OptimizerStateError'
  }
}

/** A gradient norm that is NaN or infinite while clipping was asked to refuse those. */
export class NonFiniteGradientError extends Error {
  static override name = 'NonFiniteGradientError'
  constructor(message: string) {
    super(message)
    this.name = 'NonFiniteGradientError'
  }
}

/** A dataset name, split, sequence length or partition request that cannot be served. */
export class DatasetError extends Error {
  static override name = 'DatasetError'
  constructor(message: string) {
    super(message)
    this.name = 'DatasetError'
  }
}

/** No backend could be initialised (each one tried is listed with its error), or an explicit one is unknown. */
export class BackendUnavailableError extends Error {
  static override name = 'BackendUnavailableError'
  readonly causes: ReadonlyArray<{ backend: string; error: Error }>
  constructor(message: string, causes: ReadonlyArray<{ backend: string; error: Error }> = []) {
    super(message)
    this.name = 'BackendUnavailableError'
    this.causes = causes
  }
}

/** A checkpoint directory that is missing, incomplete, or does not match the run it is loaded into. */
export class CheckpointError extends Error {
  static override name = 'CheckpointError'
  constructor(message: string) {
    super(message)
    this.name = 'CheckpointError'
  }
}

/** A session that could not be created or run: a bad model, a missing feed, an unsupported dtype. */
export class SessionError extends Error {
  static override name = 'SessionError'
  constructor(message: string) {
    super(message)
    this.name = 'SessionError'
  }
}

/** A model name, model file, batch file or data choice that does not fit the job. */
export class TaskInputError extends Error {
  static override name = 'TaskInputError'
  constructor(message: string) {
    super(message)
    this.name = 'TaskInputError'
  }
}
