import type { Tensor } from '@atoll/core'
import { OptimizerConfigError } from '../errors.ts'

/**
 * An optimizer over a fixed list of parameters. `step(lr)` applies one update with the learning
 * rate of this step (schedules live outside, as data). State round-trips through `exportState` /
 * `importState` for checkpoints: the buffers as tensors, the rest as JSON-safe metadata.
 */
export interface Optimizer {
  readonly kind: 'sgd' | 'adamw'
  /** updates applied so far (PyTorch's `state['step']`) */
  readonly steps: number
  step(lr: number): void
  exportState(): OptimizerState
  importState(state: OptimizerState): void
  /** stops worker threads, if any (the optimizer is unusable afterwards) */
  close(): void
}

/** Checkpointable optimizer state. Tensor names are `<parameter>.<buffer>` (e.g. `h.0.w.exp_avg`). */
export interface OptimizerState {
  kind: 'sgd' | 'adamw'
  steps: number
  /** the hyper-parameters it was built with, recorded so a resume can check them */
  options: Record<string, number | boolean>
  tensors: Map<string, Tensor>
}

export function requireFinite(name: string, value: number, min: number, max = Infinity): void {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new OptimizerConfigError(`${name} must be in [${min}, ${max}], got ${value}`)
  }
}

export function requireLr(lr: number): void {
  if (!Number.isFinite(lr) || lr < 0) throw new OptimizerConfigError(`learning rate must be ≥ 0, got ${lr}`)
}
