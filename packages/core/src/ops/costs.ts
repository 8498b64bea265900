/**
 * Per-op cost for the scheduler and `atoll inspect`: FLOPs, trainable parameter bytes read, and
 * output bytes written (what crosses a stage boundary if the op's output is cut).
 *
 * FLOP convention (documented so that estimates compare across tools):
 * - a multiply-add counts 2 FLOPs: MatMul = 2·M·N·K per batch, Gemm adds M·N for C, Einsum =
 *   operands × Π(letter sizes) (2·M·N·K for a matrix product),
 *   Conv = 2·N·M·(C/group)·taps per output position, plus one add per output for a bias;
 *   ConvTranspose = 2·(input elements)·(M/group)·taps, plus the bias adds;
 * - elementwise ops count 1 FLOP per output element per operation (Exp, Erf, Tanh … included: a
 *   transcendental is 1, not its instruction count); variadic ops count (inputs − 1) per element;
 * - reductions count 1 per input element; ArgMax/ArgMin and CumSum likewise;
 * - composites count their primitive steps per element: Softmax/LogSoftmax 5 (max, sub, exp, sum,
 *   divide), LayerNormalization, InstanceNormalization and GroupNormalization 7,
 *   BatchNormalization 2 in inference and 5 in training, the losses 6 per score element;
 * - LSTM, GRU and RNN count their matrix products, 2·seq·directions·batch·gates·hidden·(input +
 *   hidden), plus their cell's elementwise steps per hidden value and time step (CELL_FLOPS);
 * - pooling counts 1 per window tap per output, global pooling 1 per input element;
 * - data movement and shape ops (Reshape, Transpose, Gather, Concat, Slice, Shape, Cast …) are 0.
 */
import type { Graph, Node, ValueInfo } from '../graph/types.ts'
import { BYTES_PER_ELEMENT, numel } from '../tensor.ts'
import { readAttrs } from './attrs.ts'
import { isStaticShape, showShape } from './dims.ts'
import { planEinsum } from './einsum.ts'
import { ShapeInferenceError } from './errors.ts'
import { inferShapes } from './infer.ts'

export interface OpCost {
  flops: number
  /** bytes of the trainable parameters (graph.parameters) the op reads */
  paramBytes: number
  /** bytes of all the op's outputs */
  outputBytes: number
}

const FREE = new Set([
  'Identity',
  'Cast',
  'CastLike',
  'Reshape',
  'Flatten',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Concat',
  'Split',
  'Slice',
  'Expand',
  'Tile',
  'Pad',
  'Trilu',
  'Gather',
  'GatherElements',
  'ScatterElements',
  'GatherND',
  'ScatterND',
  'OneHot',
  'Constant',
  'ConstantOfShape',
  'Range',
  'Shape',
  'Size',
  'Where',
  'Dropout',
])
const PER_ELEMENT: Record<string, number> = {
  Softmax: 5,
  LogSoftmax: 5,
  LayerNormalization: 7,
  InstanceNormalization: 7,
  GroupNormalization: 7,
  Gelu: 1,
}
const PER_INPUT = new Set([
  'ArgMax',
  'ArgMin',
  'CumSum',
  'TopK',
  'NonZero',
  'GlobalAveragePool',
  'GlobalMaxPool',
])
const LOSS_FLOPS_PER_SCORE = 6
/**
 * Elementwise steps of one cell per hidden value: LSTM 4 gate sums, 5 activations, 3 products and 2
 * sums; GRU 3 gate sums, 3 activations, the reset product and the blend's 3; RNN a sum and f.
 */
const CELL_FLOPS: Readonly<Record<string, number>> = { LSTM: 14, GRU: 10, RNN: 2 }

/** FLOPs, parameter bytes and output bytes of `node`, given the static types of its values. */
export function opCost(
  node: Node,
  types: ReadonlyMap<string, ValueInfo>,
  parameters: ReadonlySet<string> = new Set(),
): OpCost {
  const shapeOf = (name: string): number[] => {
    const s = types.get(name)?.shape
    if (s === undefined || !isStaticShape(s)) {
      throw new ShapeInferenceError(
        node,
        `cost needs the static shape of '${name}', found ${showShape(s)}; bind its symbols`,
      )
    }
    return s
  }
  const bytes = (name: string) =>
    numel(shapeOf(name)) * BYTES_PER_ELEMENT[types.get(name)?.dtype ?? 'float32']
  const outputs = node.outputs.filter((o) => o !== '')
  const inputs = node.inputs.filter((i) => i !== '')
  return {
    flops: flopsOf(node, shapeOf, inputs, outputs),
    paramBytes: inputs.filter((i) => parameters.has(i)).reduce((s, i) => s + bytes(i), 0),
    outputBytes: outputs.reduce((s, o) => s + bytes(o), 0),
  }
}

function flopsOf(
  node: Node,
  shapeOf: (name: string) => number[],
  inputs: string[],
  outputs: string[],
): number {
  const op = node.opType
  const out = outputs.length ? numel(shapeOf(outputs[0])) : 0
  const attrs = readAttrs(node)
  if (FREE.has(op)) return 0
  if (op === 'MatMul') {
    const a = shapeOf(inputs[0])
    return 2 * out * a[a.length - 1]
  }
  if (op === 'Gemm') {
    const a = shapeOf(inputs[0])
    const k = attrs.int('transA') ? a[0] : a[1]
    return 2 * out * k + (inputs.length > 2 ? out : 0)
  }
  if (op === 'Einsum') {
    // every term of the sum multiplies the operands once and is added once
    const plan = planEinsum(attrs.string('equation'), inputs.map(shapeOf))
    return Math.max(1, inputs.length) * numel([...plan.sizes.values()] as number[])
  }
  if (op === 'ConvTranspose') {
    // the adjoint of a Conv: each input element meets every tap of its group's output channels
    const w = shapeOf(inputs[1])
    return 2 * numel(shapeOf(inputs[0])) * numel(w.slice(1)) + (inputs.length > 2 ? out : 0)
  }
  if (op === 'Conv') {
    const w = shapeOf(inputs[1])
    return 2 * out * numel(w.slice(1)) + (inputs.length > 2 ? out : 0)
  }
  if (CELL_FLOPS[op] !== undefined) {
    const [seq, batch, input] = shapeOf(node.inputs[0])
    const [directions, stacked, hidden] = shapeOf(node.inputs[2])
    const steps = seq * directions * batch
    return 2 * steps * stacked * (input + hidden) + steps * hidden * CELL_FLOPS[op]
  }
  if (op === 'MaxPool' || op === 'AveragePool') return out * numel(attrs.ints('kernel_shape') ?? [])
  if (op === 'BatchNormalization') {
    const training = attrs.int('training_mode') === 1 || node.outputs.slice(1).some((o) => o !== '')
    return out * (training ? 5 : 2)
  }
  if (op === 'SoftmaxCrossEntropyLoss' || op === 'NegativeLogLikelihoodLoss') {
    return numel(shapeOf(inputs[0])) * LOSS_FLOPS_PER_SCORE
  }
  if (op.startsWith('Reduce') || PER_INPUT.has(op)) return numel(shapeOf(inputs[0]))
  if (PER_ELEMENT[op] !== undefined) return out * PER_ELEMENT[op]
  if (['Min', 'Max', 'Sum', 'Mean'].includes(op)) return out * Math.max(1, inputs.length - 1)
  return out
}

export interface NodeCost extends OpCost {
  node: string
  opType: string
  scope: string
}

export interface GraphCosts {
  /** per node; paramBytes there is what the node reads, so a shared parameter appears at each reader */
  nodes: NodeCost[]
  /** paramBytes here counts each parameter once, at its first reader */
  total: OpCost
  /** totals per scope ('' for nodes without one), in first-seen order */
  byScope: Map<string, OpCost>
}

/** The cost of every node of `graph` (symbols bound by `bindings`), with totals overall and per scope. */
export function opCosts(graph: Graph, bindings?: Readonly<Record<string, number>>): GraphCosts {
  const types = inferShapes(graph, bindings)
  const total: OpCost = { flops: 0, paramBytes: 0, outputBytes: 0 }
  const byScope = new Map<string, OpCost>()
  const counted = new Set<string>()
  const nodes = graph.nodes.map((node) => {
    const cost = opCost(node, types, graph.parameters)
    // a parameter read by several nodes (tied embeddings) is stored once: count it at its first reader
    const fresh = node.inputs.filter((i) => graph.parameters.has(i) && !counted.has(i))
    const unique = opCost(
      { ...node, opType: 'Identity', inputs: fresh, outputs: [] },
      types,
      graph.parameters,
    ).paramBytes
    for (const i of fresh) counted.add(i)
    const scope = byScope.get(node.scope) ?? { flops: 0, paramBytes: 0, outputBytes: 0 }
    for (const acc of [total, scope]) {
      acc.flops += cost.flops
      acc.paramBytes += unique
      acc.outputBytes += cost.outputBytes
    }
    byScope.set(node.scope, scope)
    return { node: node.name, opType: node.opType, scope: node.scope, ...cost }
  })
  return { nodes, total, byScope }
}
