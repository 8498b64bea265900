import { Worker } from 'node:worker_threads'
import type { AdamwCoefficients } from '@atoll/simd'
import { OptimizerConfigError } from '../errors.ts'
import { type AdamSlot, type adamwRange, amsgradRange, type Segment, shares } from './adamw-kernels.ts'
import { adamwRangeSimd } from './adamw-simd.ts'

/** Slots of the shared control block. */
export const CONTROL = { generation: 0, done: 1 } as const
/** Slots of the shared per-step numbers. */
export const SCALAR = { keep: 0, beta1: 1, beta2: 2, stepSize: 3, invBc2Sqrt: 4, eps: 5 } as const

/** A worker that has not answered in this long is stuck, not slow (a step is milliseconds). */
const STEP_TIMEOUT_MS = 60_000

/**
 * AdamW's element loops spread over worker threads. Parameters and state live in
 * SharedArrayBuffers; a step writes its numbers to shared memory, wakes the workers through an
 * Atomics generation counter, does its own share on this thread, and blocks until every worker
 * has counted itself done, so `step()` stays synchronous and allocates nothing.
 */
export class AdamWorkerPool {
  private readonly workers: Worker[]
  private readonly control = new Int32Array(new SharedArrayBuffer(8))
  private readonly scalars = new Float64Array(new SharedArrayBuffer(6 * 8))
  private readonly own: Segment[]
  private readonly slots: AdamSlot[]
  private readonly decays: boolean[]
  private readonly kernel: typeof adamwRange
  private failure: Error | undefined

  constructor(slots: AdamSlot[], decays: boolean[], amsgrad: boolean, threads: number) {
    for (const s of slots) {
      for (const a of [s.theta, s.grad, s.m, s.v, ...(s.vmax ? [s.vmax] : [])]) {
        if (!(a.buffer instanceof SharedArrayBuffer)) {
          throw new OptimizerConfigError(
            'a multi-threaded optimizer needs parameters in shared memory (createParameter(…, { shared: true }))',
          )
        }
      }
    }
    const parts = shares(
      slots.map((s) => s.theta.length),
      threads,
    )
    this.own = parts[0]
    this.slots = slots
    this.decays = decays
    this.kernel = amsgrad ? amsgradRange : adamwRangeSimd
    const url = new URL('./adamw-worker.ts', import.meta.url)
    this.workers = parts.slice(1).map((segments) => {
      const w = new Worker(url, {
        workerData: { slots, decays, segments, amsgrad, control: this.control, scalars: this.scalars },
      })
      w.unref() // an idle pool never keeps the process alive
      w.on('error', (err) => {
        this.failure = err
      })
      return w
    })
  }

  /** Runs one step with `c` (its `keep` is overwritten per parameter: `keepDecay` or 1). */
  step(coefficients: AdamwCoefficients, keepDecay: number): void {
    if (this.failure) throw this.failure
    const s = this.scalars
    s[SCALAR.keep] = keepDecay
    s[SCALAR.beta1] = coefficients.beta1
    s[SCALAR.beta2] = coefficients.beta2
    s[SCALAR.stepSize] = coefficients.stepSize
    s[SCALAR.invBc2Sqrt] = coefficients.invBc2Sqrt
    s[SCALAR.eps] = coefficients.eps
    Atomics.store(this.control, CONTROL.done, 0)
    Atomics.add(this.control, CONTROL.generation, 1)
    Atomics.notify(this.control, CONTROL.generation)
    for (const seg of this.own) {
      coefficients.keep = this.decays[seg.k] ? keepDecay : 1
      this.kernel(this.slots[seg.k], seg.from, seg.to, coefficients)
    }
    for (;;) {
      const done = Atomics.load(this.control, CONTROL.done)
      if (done >= this.workers.length) return
      if (this.failure) throw this.failure
      if (Atomics.wait(this.control, CONTROL.done, done, STEP_TIMEOUT_MS) === 'timed-out') {
        throw new OptimizerConfigError(`optimizer workers did not finish a step in ${STEP_TIMEOUT_MS} ms`)
      }
    }
  }

  close(): void {
    Atomics.store(this.control, CONTROL.generation, -1)
    Atomics.notify(this.control, CONTROL.generation)
    for (const w of this.workers) void w.terminate()
  }
}
