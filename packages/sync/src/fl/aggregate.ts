/**
 * The server's aggregation of a round's accepted updates, and its step θ ← θ + η_server·Δ.
 *
 * - `fedavg`: Δ = Σ_k p_k Δ_k / Σ_k p_k over dense updates (p_k: the client's sample count).
 * - `fedavg-topk`: the same formula over top-k updates, a position a client did not keep counting
 *   as its 0 (so every kept value is diluted by the clients that dropped it).
 * - `bcrs-opwa` (overlap-aware): Δ_j = Σ_k p_k m_kj Δ_kj / Σ_k p_k m_kj, m_kj = 1 where client k kept
 *   position j; a position no client kept stays 0.
 *
 * Running statistics (BatchNorm's) come dense from every client, so each of the three averages them
 * by sample count over the clients that sent them.
 *
 * Sums run in float64 in the order of the contributions (the caller's fixed order, not arrival
 * order), so one round aggregates to the same bits however its updates arrived; each result is
 * rounded to float32 once.
 */
import { type Tensor, tensor } from '@atoll/core'
import type { CheckedDelta } from './check-update.ts'
import type { FlModel } from './update.ts'

export type FlStrategyName = 'fedavg' | 'fedavg-topk' | 'bcrs-opwa'

export const FL_STRATEGIES: readonly FlStrategyName[] = ['fedavg', 'fedavg-topk', 'bcrs-opwa']

/** One accepted update: its client's sample count p_k and its checked tensors. */
export interface FlContribution {
  client: string
  samples: number
  tensors: ReadonlyMap<string, CheckedDelta>
}

/**
 * Δ per tensor of `model` from the contributions (in their order). No contribution: every Δ is 0.
 * `fedavg` and `fedavg-topk` share the formula; the strategy only says which positions' weights
 * form each denominator.
 */
export function aggregateUpdates(
  strategy: FlStrategyName,
  model: FlModel,
  contributions: readonly FlContribution[],
): Map<string, Float32Array> {
  const totalSamples = contributions.reduce((sum, c) => sum + c.samples, 0)
  const deltas = new Map<string, Float32Array>()
  for (const [name, param] of model) {
    const numerator = new Float64Array(param.data.length)
    const weight = strategy === 'bcrs-opwa' ? new Float64Array(param.data.length) : undefined
    for (const { samples, tensors } of contributions) {
      accumulate(tensors.get(name) as CheckedDelta, samples, numerator, weight)
    }
    deltas.set(name, divide(numerator, weight, totalSamples))
  }
  return deltas
}

function accumulate(
  delta: CheckedDelta,
  samples: number,
  numerator: Float64Array,
  weight: Float64Array | undefined,
): void {
  if (delta.kind === 'dense') {
    const { values } = delta
    for (let j = 0; j < values.length; j++) numerator[j] += samples * values[j]
    if (weight !== undefined) for (let j = 0; j < values.length; j++) weight[j] += samples
    return
  }
  const { indices, values } = delta
  for (let i = 0; i < indices.length; i++) numerator[indices[i]] += samples * values[i]
  if (weight !== undefined) for (let i = 0; i < indices.length; i++) weight[indices[i]] += samples
}

/** numerator / weight per position (OPWA), or numerator / Σp (FedAvg); 0 where the weight is 0. */
function divide(
  numerator: Float64Array,
  weight: Float64Array | undefined,
  totalSamples: number,
): Float32Array {
  const out = new Float32Array(numerator.length)
  for (let j = 0; j < numerator.length; j++) {
    const denominator = weight === undefined ? totalSamples : weight[j]
    out[j] = denominator > 0 ? numerator[j] / denominator : 0
  }
  return out
}

/**
 * θ + η_server·Δ as a new model (fresh arrays): the model passed in is not changed, so whoever holds
 * the previous round's model (a checkpoint being written, a page being served) keeps its bits.
 * Running statistics (`statistics`) take Δ whole: they become the clients' mean, not a step.
 */
export function applyServerStep(
  model: FlModel,
  deltas: ReadonlyMap<string, Float32Array>,
  serverLearningRate: number,
  statistics: ReadonlySet<string> = new Set(),
): Map<string, Tensor<'float32'>> {
  const next = new Map<string, Tensor<'float32'>>()
  for (const [name, param] of model) {
    const delta = deltas.get(name) as Float32Array
    const rate = statistics.has(name) ? 1 : serverLearningRate
    const data = new Float32Array(param.data.length)
    for (let j = 0; j < data.length; j++) data[j] = param.data[j] + rate * delta[j]
    next.set(name, tensor('float32', [...param.shape], data))
  }
  return next
}
