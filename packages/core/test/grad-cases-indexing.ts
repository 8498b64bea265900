/**
 * Gradient cases of issue 16's indexing and contraction rules (Einsum, TopK, the scatters and
 * GatherND, ReduceProd) and of the remaining elementwise ops PyTorch exports; spread into CASES by
 * grad-cases.ts.
 */
import { attr } from '../src/graph/types.ts'
import { type Case, one, unary } from './grad-case-kit.ts'
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

/** One Einsum node over operands of the given shapes. */
// ONNX shape inference wants every ellipsis to stand for as many dims (numpy's would broadcast)
const einsum = (equation: string, ...shapes: number[][]): Case =>
  one('Einsum', {
    params: Object.fromEntries(shapes.map((s, i) => [`x${i}`, s])),
    attrs: { equation: attr.string(equation) },
  })

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
  'Sign (zero gradient)': zeroGradient('Sign', 0.1, 1),
  'Floor (zero gradient)': zeroGradient('Floor', 0.1, 0.9),
  'Ceil (zero gradient)': zeroGradient('Ceil', 0.1, 0.9),
  'Round (zero gradient)': zeroGradient('Round', 0.1, 0.4),
}
