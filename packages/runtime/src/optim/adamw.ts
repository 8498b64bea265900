import type { Tensor } from '@atoll/core'
import { type Optimizer, type OptimizerState, requireFinite, requireLr } from './optimizer.ts'
import type { Parameter } from './parameter.ts'
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
  // every buffer allocated up front: a step allocates nothing
  const expAvg = params.map((p) => new Float32Array(p.value.length))
  const expAvgSq = params.map((p) => new Float32Array(p.value.length))
  const maxExpAvgSq = amsgrad ? params.map((p) => new Float32Array(p.value.length)) : []
  let steps = 0

  return {
    kind: 'adamw',
    get steps() {
      return steps
    },
    step(lr) {
      requireLr(lr)
      const t = steps + 1
      const stepSize = lr / (1 - beta1 ** t)
      // a reciprocal, so the element loop multiplies instead of dividing (differs from PyTorch's
      // division by at most an ulp of float64, far below float32's resolution)
      const invBc2Sqrt = 1 / Math.sqrt(1 - beta2 ** t)
      for (let k = 0; k < params.length; k++) {
        const p = params[k]
        const keep = decays[k] ? 1 - lr * weightDecay : 1
        const m = expAvg[k]
        const v = expAvgSq[k]
        if (amsgrad)
          amsgradKernel(p.value, p.grad, m, v, maxExpAvgSq[k], keep, beta1, beta2, stepSize, invBc2Sqrt, eps)
        else adamwKernel(p.value, p.grad, m, v, keep, beta1, beta2, stepSize, invBc2Sqrt, eps)
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

/**
 * One parameter's update. Each stored intermediate goes through Math.fround because PyTorch keeps
 * the moments (and the decayed weight) as float32 between its element-wise ops. AMSGrad has its own
 * loop: a per-element branch on an optional array halves V8's throughput here.
 */
function adamwKernel(
  theta: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  keep: number,
  beta1: number,
  beta2: number,
  stepSize: number,
  invBc2Sqrt: number,
  eps: number,
): void {
  const w1 = 1 - beta1
  const w2 = 1 - beta2
  for (let i = 0; i < theta.length; i++) {
    const g = grad[i]
    const mi = Math.fround(m[i] + w1 * (g - m[i])) // torch: exp_avg.lerp_(grad, 1 − β1)
    const vi = Math.fround(beta2 * v[i] + w2 * g * g)
    m[i] = mi
    v[i] = vi
    theta[i] = Math.fround(theta[i] * keep) - (stepSize * mi) / (Math.sqrt(vi) * invBc2Sqrt + eps)
  }
}

function amsgradKernel(
  theta: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  vmax: Float32Array,
  keep: number,
  beta1: number,
  beta2: number,
  stepSize: number,
  invBc2Sqrt: number,
  eps: number,
): void {
  const w1 = 1 - beta1
  const w2 = 1 - beta2
  for (let i = 0; i < theta.length; i++) {
    const g = grad[i]
    const mi = Math.fround(m[i] + w1 * (g - m[i]))
    const vi = Math.fround(beta2 * v[i] + w2 * g * g)
    m[i] = mi
    v[i] = vi
    const top = Math.max(vmax[i], vi)
    vmax[i] = top
    theta[i] = Math.fround(theta[i] * keep) - (stepSize * mi) / (Math.sqrt(top) * invBc2Sqrt + eps)
  }
}
