/**
 * Every gradient rule against central finite differences on random inputs, in float64 (relative
 * error < 1e-6) and float32 (< 1e-3), run with the reference interpreter. Inputs stay tiny: finite
 * differences run the forward graph twice per perturbed coordinate.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { GRADIENT_RULES } from '../src/autodiff/index.ts'
import { CASES } from './grad-cases.ts'
import { assertGradient, lossGraph, randomTensor, rng } from './gradcheck.ts'

const TOLERANCE: Record<string, number> = { float64: 1e-6, float32: 1e-3 }

/** The op types whose rules a passing check ran, per dtype: what the cases below really cover. */
const checked: Record<string, Set<string>> = { float64: new Set(), float32: new Set() }

for (const dtype of ['float64', 'float32'] as const) {
  for (const [name, make] of Object.entries(CASES)) {
    test(`${name} gradient matches finite differences (${dtype})`, () => {
      const next = rng(name.length * 7919 + 17)
      const spec = make((shape, lo, hi) => randomTensor(dtype, shape, next, lo, hi), dtype)
      for (const op of assertGradient(lossGraph(spec), TOLERANCE[dtype])) checked[dtype].add(op)
    })
  }
}

// Runs after the checks above (top-level tests run in order): a rule added to GRADIENT_RULES
// without a case in grad-cases.ts fails here, as does a case whose rule never ran or failed.
test('every gradient rule passed a finite-difference check in both dtypes', () => {
  for (const [dtype, ops] of Object.entries(checked)) {
    const unchecked = GRADIENT_RULES.map((r) => r.opType).filter((op) => !ops.has(op))
    assert.deepEqual(unchecked, [], `rules with no passing ${dtype} finite-difference case`)
  }
})
