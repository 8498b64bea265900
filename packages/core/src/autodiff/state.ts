/**
 * Model state that training updates but the optimizer does not: BatchNorm's running mean and
 * variance. A training-mode BatchNormalization reads them as non-trainable initializers and gives
 * their new values as its 2nd and 3rd outputs; `stateUpdates` pairs the two so that a runtime can
 * feed the live state in and write the new values back after every forward (as PyTorch updates them
 * on every forward call), and `inferenceGraph` is the same model normalising with that state.
 */
import type { Graph, Node } from '../graph/types.ts'
import { attr } from '../graph/types.ts'
import { readAttrs } from '../ops/attrs.ts'
import { GradientTargetError } from './errors.ts'

/** A state initializer and the value holding its updated contents after a training forward. */
export interface StateUpdate {
  state: string
  update: string
}

/** Whether a BatchNormalization normalises with batch statistics (and may update running ones). */
export function isTrainingBatchNorm(node: Node, opset: number): boolean {
  if (node.opType !== 'BatchNormalization') return false
  if (opset >= 14) return readAttrs(node).int('training_mode') === 1
  return node.outputs.filter((o) => o !== '').length > 1
}

/** Running statistics of training-mode BatchNorms: non-trainable initializers with an update output. */
export function stateUpdates(graph: Graph): StateUpdate[] {
  const out: StateUpdate[] = []
  for (const n of graph.nodes) {
    if (!isTrainingBatchNorm(n, graph.opset)) continue
    for (const [i, o] of [
      [3, 1],
      [4, 2],
    ]) {
      const state = n.inputs[i]
      const update = n.outputs[o] ?? ''
      if (update === '' || !graph.initializers.has(state) || graph.parameters.has(state)) continue
      if (out.some((u) => u.state === state))
        throw new GradientTargetError(`state '${state}' is updated by two BatchNormalization nodes`)
      out.push({ state, update })
    }
  }
  return out
}

/**
 * `graph` for evaluation (a new graph; nodes are copied, not shared): every training-mode
 * BatchNormalization normalises with its running statistics and has only its first output.
 */
export function inferenceGraph(graph: Graph): Graph {
  const dropped = new Set<string>()
  const nodes = graph.nodes.map((n) => {
    if (!isTrainingBatchNorm(n, graph.opset)) return n
    for (const o of n.outputs.slice(1)) if (o !== '') dropped.add(o)
    const attributes =
      graph.opset >= 14 ? { ...n.attributes, training_mode: attr.int(0) } : { ...n.attributes }
    return { ...n, attributes, outputs: [n.outputs[0]] }
  })
  for (const n of nodes) {
    const read = n.inputs.find((i) => dropped.has(i))
    if (read !== undefined)
      throw new GradientTargetError(`node '${n.name}' reads '${read}', a running statistic of training mode`)
  }
  return { ...graph, nodes, outputs: graph.outputs.filter((o) => !dropped.has(o.name)) }
}
