import type { GradRule } from '../rule.ts'
import { extremumGrad } from './extremum.ts'

export const minGrad: GradRule = {
  opType: 'Min',
  inputsToSave: 'all',
  outputsToSave: [0],
  grad: extremumGrad,
}
