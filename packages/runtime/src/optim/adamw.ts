import type { Tensor } from '@atoll/core'
import type { AdamwCoefficients } from '@atoll/simd'
import { type Optimizer, type OptimizerState, requireFinite, requireLr } from './optimizer.ts'
import type { Parameter } from './parameter.ts'
import { type AdamSlot, amsgradRange } from './adamw-kernels.ts'
import { adamwRangeSimd } from './adamw-simd.ts'
import { AdamWorkerPool } from './adamw-pool.ts'
import { bufferTensor, checkStateHeader, loadBuffer } from './state.ts'

export interface AdamWOptions {
  /** β1, β2: decay of the first and second moment averages (default 0.9, 0.999) */
  betas?: readonly [number, number]
  /** ε added to the denominator (default 1e-8) */
  eps?: number
  /** decoupled weight decay λ: θ ← θ(1 − γλ) before the Adam update (default 0.01, as PyTorch) */
  weightDecay?: number
  /** AMSGrad: divide by the running maximum of the second moment (default false) */
  amsgrad?: boolean
  /** which parameters decay (default all); e.g. skip biases and norms, as GPT recipes do */
  decays?: (name: string) => boolean
  /**
   * threads for the element loops (default 1). More needs parameters in shared memory
   * (`createParameter(…, { shared: true })`); results are bit-identical to one thread.
   */
  threads?: number
}

/**
 * torch.optim.AdamW, exactly: θ ← θ(1−γλ); m ← β1 m + (1−β1)g; v ← β2 v + (1−β2)g²;
 * v̂max ← max(v̂max, v) with AMSGrad; θ ← θ − (γ / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε).
 */
export function adamw(params: readonly Parameter[], options: AdamWOptions = {}): Optimizer {
  const [beta1, beta2] = options.betas ?? [0.9, 0.999]
  const eps = options.eps ?? 1e-8
  const weightDecay = options.weightDecay ?? 0.01
  const amsgrad = options.amsgrad ?? false
  requireFinite('beta1', beta1, 0, 1 - Number.EPSILON)
  requireFinite('beta2', beta2, 0, 1 - Number.EPSILON)
  requireFinite('eps', eps, 0)
  requireFinite('weight decay', weightDecay, 0)
  const header = { beta1, beta2, eps, weightDecay, amsgrad }
  const decays = params.map((p) => options.decays?.(p.name) ?? true)
  const threads = options.threads ?? 1
  requireFinite('threads', threads, 1, 1024)
  // every buffer allocated up front (shared with the workers when there are any): a step allocates nothing
  const buffer = (n: number) =>
    threads > 1 ? new Float32Array(new SharedArrayBuffer(4 * n)) : new Float32Array(n)
  const expAvg = params.map((p) => buffer(p.value.length))
  const expAvgSq = params.map((p) => buffer(p.value.length))
  const maxExpAvgSq = amsgrad ? params.map((p) => buffer(p.value.length)) : []
  const slots: AdamSlot[] = params.map((p, k) => ({
    theta: p.value,
    grad: p.grad,
    m: expAvg[k],
    v: expAvgSq[k],
    ...(amsgrad ? { vmax: maxExpAvgSq[k] } : {}),
  }))
  const pool = threads > 1 ? new AdamWorkerPool(slots, decays, amsgrad, Math.floor(threads)) : undefined
  const kernel = amsgrad ? amsgradRange : adamwRangeSimd
  const coef: AdamwCoefficients = { keep: 1, beta1, beta2, stepSize: 0, invBc2Sqrt: 1, eps }
  let steps = 0

  return {
    kind: 'adamw',
    get steps() {
      return steps
    },
    step(lr) {
      requireLr(lr)
      const t = steps + 1
      coef.stepSize = lr / (1 - beta1 ** t)
      coef.invBc2Sqrt = 1 / Math.sqrt(1 - beta2 ** t)
      const keepDecay = 1 - lr * weightDecay
      if (pool) pool.step(coef, keepDecay)
      else {
        for (let k = 0; k < slots.length; k++) {
          coef.keep = decays[k] ? keepDecay : 1
          kernel(slots[k], 0, slots[k].theta.length, coef)
        }
      }
      steps = t
    },
    exportState(): OptimizerState {
      const tensors = new Map<string, Tensor>()
      params.forEach((p, k) => {
        tensors.set(`${p.name}.exp_avg`, bufferTensor(p, expAvg[k]))
        tensors.set(`${p.name}.exp_avg_sq`, bufferTensor(p, expAvgSq[k]))
        if (amsgrad) tensors.set(`${p.name}.max_exp_avg_sq`, bufferTensor(p, maxExpAvgSq[k]))
      })
      return { kind: 'adamw', steps, options: { ...header }, tensors }
    },
    close() {
      pool?.close()
    },
    importState(state) {
      checkStateHeader(state, 'adamw', header)
      params.forEach((p, k) => {
        loadBuffer(state, p, 'exp_avg', expAvg[k])
        loadBuffer(state, p, 'exp_avg_sq', expAvgSq[k])
        if (amsgrad) loadBuffer(state, p, 'max_exp_avg_sq', maxExpAvgSq[k])
      })
      steps = state.steps
    },
  }
}
