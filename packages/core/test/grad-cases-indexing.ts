/**
 * Gradient cases of issue 16's indexing and contraction rules (Einsum, TopK, the scatters and
 * GatherND, ReduceProd) and of the remaining elementwise ops PyTorch exports; spread into CASES by
 * grad-cases.ts.
 */
import { attr } from '../src/graph/types.ts'
import { type Case, unary } from './grad-case-kit.ts'
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

export const INDEXING_CASES: Record<string, Case> = {
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
