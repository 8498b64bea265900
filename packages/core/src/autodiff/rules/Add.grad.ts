import type { GradRule } from '../rule.ts'
import { broadcastGrads } from './common.ts'

export const addGrad: GradRule = {
  opType: 'Add',
  grad: (ctx) => broadcastGrads(ctx, [(g) => g, (g) => g]),
}
