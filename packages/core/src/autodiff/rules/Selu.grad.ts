import type { GradRule } from '../rule.ts'
import { eluRule } from './elu.ts'

export const seluGrad: GradRule = eluRule('Selu', (ctx) => ctx.attrs.float('gamma'))
