import type { GradRule } from '../rule.ts'
import { reduceExtremumRule } from './extremum.ts'

export const reduceMaxGrad: GradRule = reduceExtremumRule('ReduceMax')
