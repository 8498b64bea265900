/**
 * Static shape and dtype inference over a whole graph, node by node in the graph's order (which
 * must be topological). Small integer values that shapes depend on (Reshape targets, Slice bounds,
 * Unsqueeze axes) are folded with the reference kernels when their inputs are constant, and tracked
 * symbolically (Shape → Gather → Concat) when a dim is symbolic.
 */
import type { Dim, Graph, Node, ValueInfo } from '../graph/types.ts'
import { hasKernel, runNode } from '../reference/run-node.ts'
import { type DType, numel, type Tensor } from '../tensor.ts'
import { readAttrs } from './attrs.ts'
import { arity, isSupportedOp, type OpType } from './contract.ts'
import { bindDims, isStaticShape, symbolDim } from './dims.ts'
import { ShapeInferenceError, UndefinedValueError, UnsupportedOpError } from './errors.ts'
import type { OutputType, ShapeContext } from './shape/context.ts'
import { UnknownRank } from './shape/context.ts'
import { castTarget } from './shape/generators.ts'
import { SHAPE_FNS } from './shape/index.ts'
import { symbolicOutput } from './symbolic.ts'

/** Folding stops above this many input or output elements: shape arithmetic is tiny, weights are not. */
const FOLD_LIMIT = 1 << 16
/** Never folded: random, or never part of shape arithmetic. */
const NO_FOLD = new Set(['Dropout', 'SoftmaxCrossEntropyLoss', 'NegativeLogLikelihoodLoss'])

export interface InferOptions {
  /** sizes of symbolic dims (`batch: 8`) substituted into the graph inputs' shapes */
  bindings?: Readonly<Record<string, number>>
}

export interface InferenceResult {
  /** dtype and shape of every value: graph inputs, initializers, and every node output */
  types: Map<string, ValueInfo>
  /** values known before run time: non-trainable initializers, Constants, and what folds from them */
  constants: Map<string, Tensor>
}

/** Dtype and shape of every value of `graph`; symbols in `bindings` are replaced by their sizes. */
export function inferShapes(
  graph: Graph,
  bindings?: Readonly<Record<string, number>>,
): Map<string, ValueInfo> {
  return inferTypes(graph, { bindings }).types
}

/** Like inferShapes, also returning the values known before run time. */
export function inferTypes(graph: Graph, options: InferOptions = {}): InferenceResult {
  const bindings = options.bindings ?? {}
  const types = new Map<string, ValueInfo>()
  const constants = new Map<string, Tensor>()
  const symbolic = new Map<string, Dim[]>()
  const symbols = (shape: Dim[]) =>
    bindDims(shape, bindings).map((d) => (typeof d === 'string' ? symbolDim(d) : d))
  for (const v of graph.inputs) types.set(v.name, { ...v, shape: v.shape && symbols(v.shape) })
  const inputNames = new Set(graph.inputs.map((v) => v.name))
  for (const [name, t] of graph.initializers) {
    types.set(name, { name, dtype: t.dtype, shape: [...t.shape] })
    // an initializer that is also a graph input is only a default (a feed may replace it)
    if (!graph.parameters.has(name) && !inputNames.has(name)) constants.set(name, t)
  }
  for (const node of graph.nodes) {
    const outs = inferNode(node, graph.opset, { types, constants, symbolic })
    node.outputs.forEach((name, i) => {
      if (name === '') return
      const o = outs[i]
      if (o === undefined)
        throw new ShapeInferenceError(node, `has ${node.outputs.length} outputs, the op gives ${outs.length}`)
      const declared = graph.valueInfo.get(name)?.shape
      const shape = o.shape ?? (declared && symbols(declared))
      types.set(name, { name, dtype: o.dtype, shape })
      if (o.value) constants.set(name, o.value)
      if (o.dims) symbolic.set(name, o.dims)
    })
    foldNode(node, graph.opset, { types, constants, symbolic })
  }
  return { types, constants }
}

/**
 * Output types of one node from its inputs' types (and the values of constant inputs, which shape
 * functions such as Reshape's read): what a builder should record for the node's outputs.
 */
export function inferNodeTypes(
  node: Node,
  opset: number,
  types: ReadonlyMap<string, ValueInfo>,
  constants: ReadonlyMap<string, Tensor> = new Map(),
): OutputType[] {
  return inferNode(node, opset, {
    types: new Map(types),
    constants: new Map(constants),
    symbolic: new Map(),
  })
}

interface State {
  types: Map<string, ValueInfo>
  constants: Map<string, Tensor>
  symbolic: Map<string, Dim[]>
}

function inferNode(node: Node, opset: number, state: State): OutputType[] {
  if (!isSupportedOp(node.opType, node.domain)) throw new UnsupportedOpError(node)
  checkArity(node, node.opType)
  for (const name of node.inputs) {
    if (name !== '' && !state.types.has(name)) throw new UndefinedValueError(node, name)
  }
  const ctx = shapeContext(node, opset, state)
  try {
    return SHAPE_FNS[node.opType](ctx)
  } catch (err) {
    if (!(err instanceof UnknownRank)) throw err
    return node.outputs.map((_, i) => ({ dtype: fallbackDtype(node, ctx, i) }))
  }
}

/** Input and output counts within the contract's (trailing omitted optional ones allowed). */
function checkArity(node: Node, opType: OpType): void {
  const { inputs, outputs } = arity(opType)
  const count = (names: string[]) => names.findLastIndex((n) => n !== '') + 1
  for (const [what, names, [lo, hi]] of [
    ['inputs', node.inputs, inputs],
    ['outputs', node.outputs, outputs],
  ] as const) {
    const n = count(names)
    if (n < lo || names.length > hi) {
      const want = lo === hi ? `${lo}` : hi === Number.POSITIVE_INFINITY ? `at least ${lo}` : `${lo} to ${hi}`
      throw new ShapeInferenceError(node, `takes ${want} ${what}, found ${names.length}`)
    }
  }
}

function shapeContext(node: Node, opset: number, state: State): ShapeContext {
  const info = (i: number): ValueInfo => {
    const name = node.inputs[i]
    if (name === undefined || name === '') throw new ShapeInferenceError(node, `input ${i} is required`)
    return state.types.get(name) as ValueInfo
  }
  return {
    node,
    opset,
    attrs: readAttrs(node),
    inputCount: node.inputs.length,
    has: (i) => (node.inputs[i] ?? '') !== '',
    dtype: (i) => info(i).dtype,
    shape(i) {
      const s = info(i).shape
      if (s === undefined) throw new UnknownRank()
      return s
    },
    value: (i) => state.constants.get(node.inputs[i] ?? ''),
    dims: (i) => knownDims(state, node.inputs[i] ?? ''),
    fail(message) {
      throw new ShapeInferenceError(node, message)
    },
  }
}

function knownDims(state: State, name: string): Dim[] | undefined {
  const t = state.constants.get(name)
  if (t && t.shape.length <= 1 && (t.dtype === 'int64' || t.dtype === 'int32'))
    return Array.from(t.data, Number)
  return state.symbolic.get(name)
}

/** Ops whose outputs are booleans, and ops whose outputs are int64 indices or sizes. */
export const BOOL_OPS: ReadonlySet<string> = new Set([
  'Equal',
  'Less',
  'LessOrEqual',
  'Greater',
  'GreaterOrEqual',
  'And',
  'Or',
  'Xor',
  'Not',
  'IsNaN',
  'IsInf',
])
export const INT64_OPS: ReadonlySet<string> = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero'])

/** The output dtype when an input's rank is unknown and the shape function could not run. */
function fallbackDtype(node: Node, ctx: ShapeContext, output: number): DType {
  // second outputs: Dropout's mask, the indices of TopK and MaxPool
  if (output === 1 && node.opType === 'Dropout') return 'bool'
  if (output === 1 && (node.opType === 'TopK' || node.opType === 'MaxPool')) return 'int64'
  if (BOOL_OPS.has(node.opType)) return 'bool'
  if (INT64_OPS.has(node.opType)) return 'int64'
  if (node.opType === 'Cast') return castTarget(node, ctx.attrs)
  if (node.opType === 'CastLike') return ctx.dtype(1)
  if (node.opType === 'Where') return ctx.dtype(1)
  return ctx.dtype(0)
}

/** Folds a node whose inputs are all known; otherwise propagates symbolic dims. */
function foldNode(node: Node, opset: number, state: State): void {
  if (node.outputs.every((o) => o === '' || state.constants.has(o))) return
  const inputs = node.inputs.map((n) => (n === '' ? undefined : state.constants.get(n)))
  const allKnown = node.inputs.every((n, i) => n === '' || inputs[i] !== undefined)
  // sizes of the outputs too: ConstantOfShape, Expand or Range make large tensors from tiny inputs
  const outSizes = node.outputs.map((o) => state.types.get(o)?.shape)
  const small =
    inputs.reduce((s, t) => s + (t ? numel(t.shape) : 0), 0) <= FOLD_LIMIT &&
    outSizes.every((shape) => shape !== undefined && isStaticShape(shape) && numel(shape) <= FOLD_LIMIT)
  if (allKnown && small && !NO_FOLD.has(node.opType) && hasKernel(node.opType)) {
    const outs = runNode(node, inputs, opset)
    node.outputs.forEach((name, i) => {
      if (name === '' || outs[i] === undefined) return
      const declared = state.types.get(name)?.shape
      if (declared && isStaticShape(declared) && declared.join() !== outs[i].shape.join()) {
        throw new ShapeInferenceError(
          node,
          `inferred shape [${declared}] but the kernel gave [${outs[i].shape}]`,
        )
      }
      state.constants.set(name, outs[i])
    })
    return
  }
  const out = node.outputs[0]
  const info = state.types.get(out)
  if (!out || state.symbolic.has(out) || !info || (info.dtype !== 'int64' && info.dtype !== 'int32')) return
  if (info.shape === undefined || info.shape.length > 1) return
  const dims = symbolicOutput(
    node,
    node.inputs.map((n) => knownDims(state, n)),
  )
  if (dims) state.symbolic.set(out, dims)
}
