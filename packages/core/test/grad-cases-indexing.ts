/**
 * Gradient cases of issue 16's indexing and contraction rules (Einsum, TopK, the scatters and
 * GatherND, ReduceProd) and of the remaining elementwise ops PyTorch exports; spread into CASES by
 * grad-cases.ts.
 */
import { attr } from '../src/graph/types.ts'
import { int64, type Tensor } from '../src/tensor.ts'
import { type Case, type Draw, helper, ints, one, unary } from './grad-case-kit.ts'
import { node } from './ops-helpers.ts'

/**
 * Sign, Floor, Ceil and Round pass no gradient (NON_DIFFERENTIABLE): y = x·op(x) must have
 * dy/dx = op(x), not op(x) + x. Inputs in ±[lo, hi] stay further than the float32 probe from the
 * op's jumps, so finite differences see the zero derivative.
 */
const zeroGradient =
  (opType: string, lo: number, hi: number): Case =>
  (p) => ({
    params: { x: p([2, 3], lo, hi) },
    nodes: [node(opType, ['x'], ['step']), node('Mul', ['x', 'step'], ['y'])],
    output: 'y',
  })

/**
 * One Einsum node over operands of the given shapes. ONNX shape inference wants an ellipsis to stand
 * for as many dims in every operand (numpy's einsum would broadcast ranks too).
 */
const einsum = (equation: string, ...shapes: number[][]): Case =>
  one('Einsum', {
    params: Object.fromEntries(shapes.map((s, i) => [`x${i}`, s])),
    attrs: { equation: attr.string(equation) },
  })

/** A scatter node differentiated in data and updates (its inputs are data, indices, updates). */
const scatter =
  (opType: string, data: number[], indices: Tensor, updates: number[], attrs = {}): Case =>
  (p) => ({
    params: { data: p(data), updates: p(updates) },
    constants: { indices },
    nodes: [node(opType, ['data', 'indices', 'updates'], ['y'], attrs)],
    output: 'y',
  })

/**
 * Mixture-of-experts routing: TopK of the router's logits, Softmax of the kept ones, the chosen
 * experts' weights gathered and applied by one Einsum. Router values in ±[1, 3]
 * keep the top two further from the rest than the float32 probe moves them.
 */
const moeRouting: Case = (p) => ({
  params: { x: p([4, 3]), router: p([3, 4], 1, 3), experts: p([4, 3, 2]) },
  constants: { k: ints([2]) },
  nodes: [
    helper(node('MatMul', ['x', 'router'], ['logits'])),
    node('TopK', ['logits', 'k'], ['top', 'chosen']),
    helper(node('Softmax', ['top'], ['gate'])),
    helper(node('Gather', ['experts', 'chosen'], ['picked'])),
    node('Einsum', ['x', 'picked', 'gate'], ['y'], { equation: attr.string('td,tkdh,tk->th') }),
  ],
  output: 'y',
})

/** A [3, 4] draw whose second row has one zero and third row two: ReduceProd's hard cases. */
const withZeros = (p: Draw) => {
  const x = p([3, 4])
  const data = (x.data as Float64Array).slice()
  for (const i of [5, 8, 10]) data[i] = 0
  return { ...x, data }
}

export const INDEXING_CASES: Record<string, Case> = {
  'Einsum (matmul)': einsum('ij,jk->ik', [3, 4], [4, 2]),
  'Einsum (batched, broadcast batch)': einsum('...ij,...jk->...ik', [2, 1, 3, 4], [1, 3, 4, 2]),
  'Einsum (trace)': einsum('ii->', [3, 3]),
  'Einsum (diagonal)': einsum('ii->i', [3, 3]),
  'Einsum (diagonal times a vector, implicit output)': einsum('iij,i', [3, 3, 2], [3]),
  'Einsum (outer product)': einsum('i,j->ij', [3], [4]),
  'Einsum (sum out)': einsum('ij->i', [3, 4]),
  'Einsum (summed-out letter of one operand)': einsum('ij,i->i', [3, 4], [3]),
  'Einsum (MoE experts)': einsum('bsd,edh->bseh', [2, 3, 4], [2, 4, 3]),
  'Einsum (attention scores, ellipsis)': einsum('...qd,...kd->...qk', [2, 2, 3, 4], [2, 1, 5, 4]),
  'Einsum (size-1 letter broadcast, three operands)': einsum('bij,bj,i->bi', [2, 3, 4], [1, 4], [3]),
  'Einsum (rank-0 operand, transpose)': einsum('ij,->ji', [2, 3], []),
  Atan: unary('Atan', {}, 0.1, 2),
  Asin: unary('Asin', {}, 0.1, 0.8),
  Acos: unary('Acos', {}, 0.1, 0.8),
  Sinh: unary('Sinh'),
  Cosh: unary('Cosh'),
  Mish: unary('Mish', {}, 0.1, 3),
  Celu: unary('Celu', { alpha: attr.float(0.6) }, 0.1, 2),
  Tan: unary('Tan'),
  ThresholdedRelu: unary('ThresholdedRelu', { alpha: attr.float(0.5) }, 0.1, 2),
  ReduceL1: one('ReduceL1', {
    params: { x: [2, 3, 4] },
    constants: { axes: ints([1]) },
    attrs: { keepdims: attr.int(0) },
  }),
  'Sign (zero gradient)': zeroGradient('Sign', 0.1, 1),
  'Floor (zero gradient)': zeroGradient('Floor', 0.1, 0.9),
  'Ceil (zero gradient)': zeroGradient('Ceil', 0.1, 0.9),
  'Round (zero gradient)': zeroGradient('Round', 0.1, 0.4),
  'Einsum (one value as both operands)': (p) => ({
    params: { x: p([3, 4]) },
    nodes: [node('Einsum', ['x', 'x'], ['y'], { equation: attr.string('ij,kj->ik') })],
    output: 'y',
  }),
  'TopK and Einsum (MoE routing)': moeRouting,
  'TopK (largest, last axis)': one('TopK', {
    // a wide range keeps neighbours in the order further apart than the float32 probe (1e-2)
    params: { x: (p) => p([3, 5], 0.1, 10) },
    constants: { k: ints([2]) },
    outputs: ['y', 'idx'],
  }),
  'TopK (smallest, axis 0)': one('TopK', {
    params: { x: (p) => p([4, 2, 3], 0.1, 10) },
    constants: { k: ints([3]) },
    attrs: { axis: attr.int(0), largest: attr.int(0) },
    outputs: ['y', 'idx'],
  }),
  'ScatterElements (none)': scatter(
    'ScatterElements',
    [3, 4],
    int64([2, 4], [0, 2, 1, 1, 2, 0, 0, 2]),
    [2, 4],
  ),
  'ScatterElements (add, repeated indices, axis -1)': scatter(
    'ScatterElements',
    [2, 4],
    int64([2, 3], [0, 0, 3, 1, 2, 1]),
    [2, 3],
    { axis: attr.int(-1), reduction: attr.string('add') },
  ),
  'ScatterND (none, rows)': scatter('ScatterND', [4, 3], int64([2, 1], [1, 3]), [2, 3]),
  'ScatterND (add, repeated rows: MoE combine)': scatter(
    'ScatterND',
    [4, 3],
    int64([3, 1], [0, 2, 0]),
    [3, 3],
    { reduction: attr.string('add') },
  ),
  'ScatterElements (mul, repeated indices, a zero update)': (p) => {
    const updates = p([2, 3])
    const values = (updates.data as Float64Array).slice()
    values[1] = 0
    return {
      params: { data: p([2, 4]), updates: { ...updates, data: values } },
      constants: { indices: int64([2, 3], [0, 0, 3, 1, 2, 1]) },
      nodes: [
        node('ScatterElements', ['data', 'indices', 'updates'], ['y'], {
          axis: attr.int(1),
          reduction: attr.string('mul'),
        }),
      ],
      output: 'y',
    }
  },
  'ScatterElements (max, repeated indices)': scatter(
    'ScatterElements',
    [3, 2],
    int64([3, 2], [0, 1, 0, 1, 2, 1]),
    [3, 2],
    { reduction: attr.string('max') },
  ),
  'ScatterND (min, repeated rows)': scatter('ScatterND', [3, 2], int64([3, 1], [2, 0, 2]), [3, 2], {
    reduction: attr.string('min'),
  }),
  'ScatterND (mul, index pairs)': scatter('ScatterND', [2, 3, 2], int64([3, 2], [0, 1, 1, 2, 0, 1]), [3, 2], {
    reduction: attr.string('mul'),
  }),
  'ScatterND (none, index pairs)': scatter('ScatterND', [2, 3, 2], int64([2, 2], [0, 1, 1, 2]), [2, 2]),
  'GatherND (repeated rows: MoE dispatch)': one('GatherND', {
    params: { data: [3, 4] },
    constants: { idx: int64([3, 1], [1, 2, 1]) },
  }),
  'GatherND (index pairs, negative)': one('GatherND', {
    params: { data: [2, 3, 2] },
    constants: { idx: int64([2, 2], [0, -1, 1, 0]) },
  }),
  'GatherND (batch_dims 1)': one('GatherND', {
    params: { data: [2, 3, 4] },
    constants: { idx: int64([2, 2, 1], [2, 0, 1, 1]) },
    attrs: { batch_dims: attr.int(1) },
  }),
  'GatherND (batch_dims 2)': one('GatherND', {
    params: { data: [2, 2, 3] },
    constants: { idx: int64([2, 2, 1], [2, 0, 1, 1]) },
    attrs: { batch_dims: attr.int(2) },
  }),
  'ReduceProd (zeros: none, one, two per group)': one('ReduceProd', {
    params: { x: withZeros },
    constants: { axes: ints([1]) },
    attrs: { keepdims: attr.int(0) },
  }),
  'ReduceProd (all axes)': one('ReduceProd', { params: { x: [2, 3] } }),
  'ReduceProd (opset 13 attribute)': one('ReduceProd', {
    params: { x: [2, 3, 2] },
    attrs: { axes: attr.ints([0, 2]) },
    opset: 13,
  }),
}
