import type { GradRule } from '../rule.ts'
import { broadcastGrads } from './common.ts'

export const sumGrad: GradRule = {
  opType: 'Sum',
  grad: (ctx) =>
    broadcastGrads(
      ctx,
      ctx.node.inputs.map(() => (g) => g),
    ),
}
