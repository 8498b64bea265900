import type { GradRule } from '../rule.ts'
import { arcsineRule } from './arcsine.ts'

export const acosGrad: GradRule = arcsineRule('Acos')
