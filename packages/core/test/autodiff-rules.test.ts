/**
 * Every gradient rule against central finite differences on random inputs, in float64 (relative
 * error < 1e-6) and float32 (< 1e-3), run with the reference interpreter. Inputs stay tiny: finite
 * differences run the forward graph twice per perturbed coordinate.
 */
import { test } from 'node:test'
import { CASES } from './grad-cases.ts'
import { assertGradient, lossGraph, randomTensor, rng } from './gradcheck.ts'

const TOLERANCE: Record<string, number> = { float64: 1e-6, float32: 1e-3 }

for (const dtype of ['float64', 'float32'] as const) {
  for (const [name, make] of Object.entries(CASES)) {
    test(`${name} gradient matches finite differences (${dtype})`, () => {
      const next = rng(name.length * 7919 + 17)
      const spec = make((shape, lo, hi) => randomTensor(dtype, shape, next, lo, hi), dtype)
      assertGradient(lossGraph(spec), TOLERANCE[dtype])
    })
  }
}
