/**
 * Every gradient rule against central finite differences on random inputs, in float64 (relative
 * error < 1e-6) and float32 (< 1e-3), run with the reference interpreter. Inputs stay tiny: finite
 * differences run the forward graph twice per perturbed coordinate.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { GRADIENT_RULES } from '../src/autodiff/index.ts'
import { RECURRENT_OPS } from '../src/ops/recurrent.ts'
import { CASES, HELPER_SCOPE } from './grad-cases.ts'
import { assertGradient, lossGraph, randomTensor, rng } from './gradcheck.ts'

const DTYPES = ['float64', 'float32'] as const
const TOLERANCE: Record<(typeof DTYPES)[number], number> = { float64: 1e-6, float32: 1e-3 }

/**
 * Runs one case's finite-difference check (throws when it fails) and returns the op types it
 * covered: those of the case's own nodes whose rule produced the checked gradient — not the loss
 * the check appends (a Mul and a ReduceSum) nor the case's helper nodes.
 */
function checkCase(name: string, dtype: (typeof DTYPES)[number]): string[] {
  const next = rng(name.length * 7919 + 17)
  const spec = CASES[name]((shape, lo, hi) => randomTensor(dtype, shape, next, lo, hi), dtype)
  const ran = assertGradient(lossGraph(spec), TOLERANCE[dtype])
  return spec.nodes.filter((n) => ran.has(n.name) && n.scope !== HELPER_SCOPE).map((n) => n.opType)
}

for (const dtype of DTYPES) {
  for (const name of Object.keys(CASES)) {
    test(`${name} gradient matches finite differences (${dtype})`, () => {
      assert.notDeepEqual(checkCase(name, dtype), [], `the case checked no rule of its own`)
    })
  }
}

// Runs every case again (under a second in all) rather than reading what the tests above saw, so
// that it holds when run alone (--test-name-pattern). A rule added to GRADIENT_RULES without a case
// in grad-cases.ts fails here, as does a case whose rule never ran; so do LSTM, GRU and RNN, which
// are differentiated unrolled (no rule of their own), without a case.
test('every gradient rule passed a finite-difference check in both dtypes', () => {
  const differentiable = [...GRADIENT_RULES.map((r) => r.opType), ...RECURRENT_OPS]
  for (const dtype of DTYPES) {
    const checked = new Set(Object.keys(CASES).flatMap((name) => checkCase(name, dtype)))
    const unchecked = differentiable.filter((op) => !checked.has(op))
    assert.deepEqual(unchecked, [], `rules with no passing ${dtype} finite-difference case`)
  }
})
