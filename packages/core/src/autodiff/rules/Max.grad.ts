import type { GradRule } from '../rule.ts'
import { extremumGrad } from './extremum.ts'

export const maxGrad: GradRule = {
  opType: 'Max',
  inputsToSave: 'all',
  outputsToSave: [0],
  grad: extremumGrad,
}
