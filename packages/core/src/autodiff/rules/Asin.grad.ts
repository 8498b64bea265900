import type { GradRule } from '../rule.ts'
import { arcsineRule } from './arcsine.ts'

export const asinGrad: GradRule = arcsineRule('Asin')
