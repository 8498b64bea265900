/** A worker thread of the parallel AdamW: waits for a step, updates its share, reports done. */
import { workerData } from 'node:worker_threads'
import type { AdamwCoefficients } from '@atoll/simd'
import { type AdamSlot, amsgradRange, type Segment } from './adamw-kernels.ts'
import { adamwRangeSimd } from './adamw-simd.ts'
import { CONTROL, SCALAR } from './adamw-pool.ts'

const { slots, decays, segments, amsgrad, control, scalars } = workerData as {
  slots: AdamSlot[]
  decays: boolean[]
  segments: Segment[]
  amsgrad: boolean
  control: Int32Array
  scalars: Float64Array
}
const c: AdamwCoefficients = { keep: 1, beta1: 0, beta2: 0, stepSize: 0, invBc2Sqrt: 1, eps: 0 }
const kernel = amsgrad ? amsgradRange : adamwRangeSimd
let seen = 0
for (;;) {
  Atomics.wait(control, CONTROL.generation, seen)
  const generation = Atomics.load(control, CONTROL.generation)
  if (generation < 0) break
  seen = generation
  c.beta1 = scalars[SCALAR.beta1]
  c.beta2 = scalars[SCALAR.beta2]
  c.stepSize = scalars[SCALAR.stepSize]
  c.invBc2Sqrt = scalars[SCALAR.invBc2Sqrt]
  c.eps = scalars[SCALAR.eps]
  for (const s of segments) {
    c.keep = decays[s.k] ? scalars[SCALAR.keep] : 1
    kernel(slots[s.k], s.from, s.to, c)
  }
  Atomics.add(control, CONTROL.done, 1)
  Atomics.notify(control, CONTROL.done)
}
