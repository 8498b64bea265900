import type { GradRule } from '../rule.ts'
import { reductionRule } from './common.ts'

/** y = Σ|x|: dx = sign(x)·g (0 at x = 0, as Abs's rule and PyTorch have it). */
export const reduceL1Grad: GradRule = reductionRule('ReduceL1', { inputsToSave: [0] }, (ctx, back) =>
  ctx.emit.op('Mul', [ctx.emit.op('Sign', [ctx.input(0)]), back(ctx.dyOrZeros(0))]),
)
