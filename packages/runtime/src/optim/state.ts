import { type Tensor, tensor } from '@atoll/core'
import { OptimizerStateError } from '../errors.ts'
import type { OptimizerState } from './optimizer.ts'
import type { Parameter } from './parameter.ts'

/** A state buffer as a tensor of the parameter's shape, viewing the buffer (checkpoint writers copy). */
export function bufferTensor(param: Parameter, buffer: Float32Array): Tensor<'float32'> {
  return tensor('float32', param.shape, buffer)
}

/**
 * Checks that `state` was written by the same kind of optimizer with the same options, so that a
 * resume never silently continues with different hyper-parameters.
 */
export function checkStateHeader(
  state: OptimizerState,
  kind: OptimizerState['kind'],
  options: Record<string, number | boolean>,
): void {
  if (state.kind !== kind) throw new OptimizerStateError(`state is for ${state.kind}, optimizer is ${kind}`)
  if (!Number.isSafeInteger(state.steps) || state.steps < 0) {
    throw new OptimizerStateError(`state has a bad step count ${state.steps}`)
  }
  for (const [key, value] of Object.entries(options)) {
    if (state.options[key] !== value) {
      throw new OptimizerStateError(`state has ${key}=${state.options[key]}, optimizer has ${key}=${value}`)
    }
  }
}

/** Copies the saved buffer `<param>.<buffer>` into `target`, checking dtype and size. */
export function loadBuffer(
  state: OptimizerState,
  param: Parameter,
  buffer: string,
  target: Float32Array,
): void {
  const key = `${param.name}.${buffer}`
  const t = state.tensors.get(key)
  if (t === undefined) throw new OptimizerStateError(`state has no '${key}'`)
  if (t.dtype !== 'float32' || t.data.length !== target.length) {
    throw new OptimizerStateError(
      `'${key}' is ${t.dtype}[${t.data.length}], expected float32[${target.length}] for shape [${param.shape}]`,
    )
  }
  target.set(t.data as Float32Array)
}
