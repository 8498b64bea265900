import type { GradRule } from '../rule.ts'
import { eluRule } from './elu.ts'

export const eluGrad: GradRule = eluRule('Elu', () => 1)
