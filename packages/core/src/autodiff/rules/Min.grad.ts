import type { GradRule } from '../rule.ts'
import { extremumRule } from './extremum.ts'

export const minGrad: GradRule = extremumRule('Min')
