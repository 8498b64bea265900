/**
 * The combined forward+backward graph: one graph that computes the loss and every parameter
 * gradient. It is the monolithic baseline the runtime compares stage pipelines with, and what
 * `atoll grads` runs: the loss seed is a constant 1 (d loss/d loss), so only the forward's inputs
 * are needed.
 */
import type { Graph, ValueInfo } from '../graph/types.ts'
import { producers } from '../graph/validate.ts'
import { numel, type Tensor, tensor } from '../tensor.ts'
import { type Backward, type BackwardOptions, buildBackward } from './backward.ts'
import { staticShape } from './context.ts'
import { decomposeTrainingOps } from './decompose.ts'
import { type StateUpdate, stateUpdates } from './state.ts'

export interface TrainingGraph {
  /**
   * inputs: the forward's; outputs: the loss, then `grad.<p>` for every differentiated value, then
   * the updated running statistics (`state`)
   */
  graph: Graph
  backward: Backward
  /** state initializers (BatchNorm running statistics) and the outputs holding their new values */
  state: StateUpdate[]
}

export interface TrainingGraphOptions extends BackwardOptions {
  /** rewrite composites that onnxruntime computes off-spec (training BatchNorm) first; default true */
  decompose?: boolean
}

export function buildTrainingGraph(
  source: Graph,
  loss: string,
  options: TrainingGraphOptions = {},
): TrainingGraph {
  const state = stateUpdates(source)
  const graph = options.decompose === false ? source : decomposeTrainingOps(source, options.bindings)
  const backward = buildBackward(graph, loss, options)
  const seed = backward.seeds.get(loss) as string
  const lossInfo = backward.types.get(loss) as ValueInfo
  // the backward's initializers never share a name with a forward node's output (folded values
  // are copied under fresh names), so the union defines every value once
  const initializers = new Map<string, Tensor>([...graph.initializers, ...backward.graph.initializers])
  initializers.set(seed, ones(lossInfo.dtype, staticShape(backward.types, loss)))
  const bind = (v: ValueInfo): ValueInfo => ({ ...v, shape: backward.types.get(v.name)?.shape ?? v.shape })
  const combined: Graph = {
    name: `${graph.name}.training`,
    nodes: [...graph.nodes, ...backward.graph.nodes],
    inputs: graph.inputs.map(bind),
    outputs: [
      { ...lossInfo },
      ...backward.graph.outputs,
      ...state.map(({ state, update }) => ({ ...(backward.types.get(state) as ValueInfo), name: update })),
    ],
    initializers,
    parameters: new Set(graph.parameters),
    valueInfo: new Map(graph.valueInfo),
    opset: graph.opset,
  }
  producers(combined) // throws DuplicateNameError if any value were defined twice
  return { graph: combined, backward, state }
}

function ones(dtype: ValueInfo['dtype'], shape: number[]): Tensor {
  const n = numel(shape)
  if (dtype === 'float64') return tensor('float64', shape, new Float64Array(n).fill(1))
  if (dtype === 'float32') return tensor('float32', shape, new Float32Array(n).fill(1))
  // float16: 1.0 is 0x3c00 in IEEE half
  return tensor('float16', shape, new Uint16Array(n).fill(0x3c00))
}
