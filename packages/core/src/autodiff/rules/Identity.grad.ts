import type { GradRule } from '../rule.ts'

export const identityGrad: GradRule = {
  opType: 'Identity',
  grad: (ctx) => [ctx.dyOrZeros(0)],
}
