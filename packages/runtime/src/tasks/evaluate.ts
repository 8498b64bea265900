import { type Graph, inferenceGraph, type Tensor, tensor } from '@atoll/core'
import type { Backend, BackendSession } from '../backend/backend.ts'
import { TaskInputError } from '../errors.ts'
import { sessionModel } from '../executor/compiled-stage.ts'
import type { Parameter } from '../optim/parameter.ts'
import type { TrainableModel } from './model-source.ts'

export interface EvalResult {
  /** mean of the batches' mean losses */
  loss: number
  /** share of positions whose arg-max logit is the target */
  accuracy: number
  batches: number
  /** positions scored (samples, or samples × sequence length) */
  positions: number
}

/**
 * Forward-only evaluation in inference mode: loss and arg-max accuracy over `batches`. The graph's
 * parameters are fed from `params` (so trained weights are evaluated without rebuilding the model);
 * its running statistics are the graph's own initializers, which training updates in place.
 */
export async function evaluate(
  model: TrainableModel,
  params: readonly Parameter[],
  backend: Backend,
  batches: Iterable<Readonly<Record<string, Tensor>>>,
): Promise<EvalResult> {
  const logits = model.graph.outputs.find((o) => o.name !== model.loss)
  if (logits === undefined) throw new TaskInputError('the model has no logits output besides its loss')
  // BatchNorm normalises with the running statistics training kept, as PyTorch's eval() does
  const forward = forwardGraph(inferenceGraph(model.graph), params)
  const session: BackendSession = await backend.createSession(sessionModel(backend, forward))
  const paramFeeds = Object.fromEntries(params.map((p) => [p.name, tensor('float32', p.shape, p.value)]))
  let lossSum = 0
  let correct = 0
  let positions = 0
  let count = 0
  try {
    for (const batch of batches) {
      const out = await session.run({ ...batch, ...paramFeeds })
      lossSum += ((await out[model.loss].read()).data as Float32Array)[0]
      const scores = await out[logits.name].read()
      const c = countCorrect(scores, batch.targets)
      correct += c.correct
      positions += c.positions
      count++
    }
  } finally {
    await session.release()
  }
  return { loss: lossSum / count, accuracy: correct / positions, batches: count, positions }
}

function forwardGraph(graph: Graph, params: readonly Parameter[]): Graph {
  const names = new Set(params.map((p) => p.name))
  return {
    ...graph,
    inputs: [
      ...graph.inputs,
      ...params.map((p) => ({ name: p.name, dtype: 'float32' as const, shape: [...p.shape] })),
    ],
    initializers: new Map([...graph.initializers].filter(([k]) => !names.has(k))),
    parameters: new Set(),
  }
}

function countCorrect(scores: Tensor, targets: Tensor | undefined): { correct: number; positions: number } {
  if (targets === undefined || targets.dtype !== 'int64')
    throw new TaskInputError('evaluation needs int64 targets')
  const classes = scores.shape[scores.shape.length - 1]
  const s = scores.data as Float32Array
  const t = targets.data as BigInt64Array
  let correct = 0
  for (let p = 0; p < t.length; p++) {
    let best = 0
    for (let k = 1; k < classes; k++) if (s[p * classes + k] > s[p * classes + best]) best = k
    if (BigInt(best) === t[p]) correct++
  }
  return { correct, positions: t.length }
}
