import type { GradRule } from '../rule.ts'
import { extremumGrad } from './extremum.ts'

export const minGrad: GradRule = {
  opType: 'Min',
  inputsToSave: Array.from({ length: 16 }, (_, i) => i),
  outputsToSave: [0],
  grad: extremumGrad,
}
