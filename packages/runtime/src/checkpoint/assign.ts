import type { Tensor } from '@atoll/core'
import { CheckpointError } from '../errors.ts'
import type { Parameter } from '../optim/parameter.ts'

/**
 * Copies `tensors` into `params` by name. Every parameter must be present with its exact shape and
 * float32 dtype, and (unless `allowExtra`) nothing else may be: loading weights of another model
 * must fail loudly, not half-succeed.
 */
export function assignParameters(
  params: readonly Parameter[],
  tensors: ReadonlyMap<string, Tensor>,
  options: {
    prefix?: string
    allowExtra?: boolean
    source?: string
    /** live model state (running statistics, see modelState): copied in when present, never required */
    state?: ReadonlyMap<string, Tensor>
  } = {},
): void {
  const { prefix = '', allowExtra = false, source = 'the weights', state = new Map() } = options
  const problems: string[] = []
  for (const [name, live] of state) {
    const t = tensors.get(prefix + name)
    if (t !== undefined && (t.dtype !== live.dtype || t.shape.join() !== live.shape.join()))
      problems.push(`state '${name}' is ${t.dtype} [${t.shape}], expected ${live.dtype} [${live.shape}]`)
  }
  for (const p of params) {
    const t = tensors.get(prefix + p.name)
    if (t === undefined) problems.push(`'${p.name}' is missing`)
    else if (t.dtype !== 'float32') problems.push(`'${p.name}' is ${t.dtype}, expected float32`)
    else if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      problems.push(`'${p.name}' has shape [${t.shape}], expected [${p.shape}]`)
    }
  }
  if (!allowExtra) {
    const known = new Set([...params.map((p) => p.name), ...state.keys()].map((n) => prefix + n))
    for (const name of tensors.keys()) {
      if (name.startsWith(prefix) && !known.has(name))
        problems.push(`'${name.slice(prefix.length)}' is not a parameter of the model`)
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 10).join('; ')
    const more = problems.length > 10 ? ` (and ${problems.length - 10} more)` : ''
    throw new CheckpointError(`${source} do not match the model: ${shown}${more}`)
  }
  for (const p of params) p.value.set(tensors.get(prefix + p.name)!.data as Float32Array)
  for (const [name, live] of state) {
    const t = tensors.get(prefix + name)
    if (t !== undefined) (live.data as Float32Array).set(t.data as Float32Array)
  }
}
