/**
 * Runtime error classes: one per failure, `name` doubles as the code so callers branch on
 * `err.name` (js-libp2p style).
 */
import { AtollError } from '@atoll/core'

/** An optimizer or schedule option outside its valid range (negative lr, beta ≥ 1, Nesterov without momentum). */
export class OptimizerConfigError extends AtollError {}

/** Optimizer state that does not fit the parameters it is loaded into (missing buffer, wrong size, other kind). */
export class OptimizerStateError extends AtollError {}

/** A gradient norm that is NaN or infinite while clipping was asked to refuse those. */
export class NonFiniteGradientError extends AtollError {}

/** A dataset name, split, sequence length or partition request that cannot be served. */
export class DatasetError extends AtollError {}

/** No backend could be initialised (each one tried is listed with its error), or an explicit one is unknown. */
export class BackendUnavailableError extends AtollError {
  readonly causes: ReadonlyArray<{ backend: string; error: Error }>
  constructor(message: string, causes: ReadonlyArray<{ backend: string; error: Error }> = []) {
    super(message)
    this.causes = causes
  }
}

/** A GPU backend's hardware is not on this machine; the backend was not started. */
export class DeviceAbsentError extends AtollError {}

/**
 * A GPU is on this machine, but not the software its backend loads (a GPU's Vulkan driver, the
 * Vulkan loader, onnxruntime's CUDA provider); the backend was not started.
 */
export class DeviceSetupError extends AtollError {}

/** A checkpoint directory that is missing, incomplete, or does not match the run it is loaded into. */
export class CheckpointError extends AtollError {}

/** A session that could not be created or run: a bad model, a missing feed, an unsupported dtype. */
export class SessionError extends AtollError {}

/** A model name, model file, batch file or data choice that does not fit the job. */
export class TaskInputError extends AtollError {}
