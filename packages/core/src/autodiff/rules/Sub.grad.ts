import type { GradRule } from '../rule.ts'
import { broadcastGrads } from './common.ts'

export const subGrad: GradRule = {
  opType: 'Sub',
  grad: (ctx) => broadcastGrads(ctx, [(g) => g, (g) => ctx.emit.op('Neg', [g])]),
}
