import { OptimizerConfigError } from '../errors.ts'
import { type Optimizer, type OptimizerState, requireFinite, requireLr } from './optimizer.ts'
import type { Parameter } from './parameter.ts'
import { bufferTensor, checkStateHeader, loadBuffer } from './state.ts'

export interface SgdOptions {
  /** momentum factor μ (default 0: plain SGD, no buffer) */
  momentum?: number
  /** dampening τ of the momentum update (default 0) */
  dampening?: number
  /** L2 penalty λ added to the gradient (default 0; coupled, as in torch.optim.SGD) */
  weightDecay?: number
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0, as PyTorch requires) */
  nesterov?: boolean
}

/**
 * torch.optim.SGD, exactly: g ← ∇ + λθ; with momentum b ← g on the first step, else
 * b ← μb + (1−τ)g; g ← g + μb (Nesterov) or g ← b; θ ← θ − γg.
 */
export function sgd(params: readonly Parameter[], options: SgdOptions = {}): Optimizer {
  const momentum = options.momentum ?? 0
  const dampening = options.dampening ?? 0
  const weightDecay = options.weightDecay ?? 0
  const nesterov = options.nesterov ?? false
  requireFinite('momentum', momentum, 0)
  requireFinite('dampening', dampening, 0, 1)
  requireFinite('weight decay', weightDecay, 0)
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new OptimizerConfigError('Nesterov momentum requires a momentum > 0 and zero dampening')
  }
  const header = { momentum, dampening, weightDecay, nesterov }
  // allocated once: the step loop allocates nothing
  const buffers = momentum !== 0 ? params.map((p) => new Float32Array(p.value.length)) : []
  let steps = 0

  return {
    kind: 'sgd',
    get steps() {
      return steps
    },
    step(lr) {
      requireLr(lr)
      for (let k = 0; k < params.length; k++) {
        const p = params[k]
        if (momentum === 0) plainStep(p.value, p.grad, lr, weightDecay)
        else
          momentumStep(
            p.value,
            p.grad,
            buffers[k],
            lr,
            weightDecay,
            momentum,
            dampening,
            nesterov,
            steps === 0,
          )
      }
      steps++
    },
    exportState(): OptimizerState {
      // plain SGD has no buffers (and must not build tensors over the missing ones)
      const tensors = new Map(
        buffers.map((b, k) => [`${params[k].name}.momentum_buffer`, bufferTensor(params[k], b)]),
      )
      return { kind: 'sgd', steps, options: { ...header }, tensors }
    },
    close() {},
    importState(state) {
      checkStateHeader(state, 'sgd', header)
      if (momentum !== 0) {
        for (let k = 0; k < params.length; k++) loadBuffer(state, params[k], 'momentum_buffer', buffers[k])
      }
      steps = state.steps
    },
  }
}

function plainStep(theta: Float32Array, grad: Float32Array, lr: number, wd: number): void {
  for (let i = 0; i < theta.length; i++) {
    const th = theta[i]
    theta[i] = th - lr * Math.fround(grad[i] + wd * th)
  }
}

function momentumStep(
  theta: Float32Array,
  grad: Float32Array,
  buf: Float32Array,
  lr: number,
  wd: number,
  mu: number,
  tau: number,
  nesterov: boolean,
  first: boolean,
): void {
  const keep = 1 - tau
  for (let i = 0; i < theta.length; i++) {
    const th = theta[i]
    // fround: PyTorch materialises each intermediate as float32; matching that keeps us bit-close
    const g = Math.fround(grad[i] + wd * th)
    const b = first ? g : Math.fround(mu * buf[i] + keep * g)
    buf[i] = b
    const d = nesterov ? Math.fround(g + mu * b) : b
    theta[i] = th - lr * d
  }
}
