import { numel, type Tensor, tensor } from '@atoll/core'
import { OptimizerStateError } from '../errors.ts'

/**
 * A trainable float32 parameter with its gradient accumulator. The optimizer updates `value` in
 * place, so sessions that were fed views of it see the new weights without a copy.
 */
export interface Parameter {
  readonly name: string
  readonly shape: readonly number[]
  /** the weights, updated in place */
  readonly value: Float32Array
  /** gradients accumulated since the last `zeroGrads` (same length as `value`) */
  readonly grad: Float32Array
}

/**
 * A parameter holding a copy of `initial` (float32), with a zeroed gradient. `shared` puts both in
 * SharedArrayBuffers, for optimizers that update them from worker threads.
 */
export function createParameter(
  name: string,
  initial: Tensor,
  options: { shared?: boolean } = {},
): Parameter {
  if (initial.dtype !== 'float32') {
    throw new OptimizerStateError(`parameter '${name}' must be float32, got ${initial.dtype}`)
  }
  const n = numel(initial.shape)
  const buffer = () => (options.shared ? new Float32Array(new SharedArrayBuffer(4 * n)) : new Float32Array(n))
  const value = buffer()
  value.set(initial.data as Float32Array)
  return { name, shape: [...initial.shape], value, grad: buffer() }
}

/** The weights as a tensor viewing (not copying) the parameter's storage. */
export function parameterTensor(param: Parameter): Tensor<'float32'> {
  return tensor('float32', param.shape, param.value)
}

/** Sets every gradient to zero (before accumulating a new step's micro-batches). */
export function zeroGrads(params: readonly Parameter[]): void {
  for (const p of params) p.grad.fill(0)
}

/** Adds `scale * g` into the parameter's gradient: accumulation over micro-batches. */
export function accumulateGrad(param: Parameter, grad: Float32Array, scale = 1): void {
  const acc = param.grad
  if (grad.length !== acc.length) {
    throw new OptimizerStateError(
      `gradient for '${param.name}' has ${grad.length} elements, expected ${acc.length}`,
    )
  }
  if (scale === 1) {
    for (let i = 0; i < acc.length; i++) acc[i] += grad[i]
  } else {
    for (let i = 0; i < acc.length; i++) acc[i] += scale * grad[i]
  }
}
