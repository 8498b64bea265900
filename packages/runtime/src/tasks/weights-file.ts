import { type Tensor, writeSafetensors } from '@atoll/core'
import { type Parameter, parameterTensor } from '../optim/parameter.ts'

/**
 * Trained weights as one safetensors file by parameter name, what `--init` and `--weights` read.
 * The model's running statistics (BatchNorm) travel with them: evaluation normalises with them.
 */
export function weightsFile(
  params: readonly Parameter[],
  state: ReadonlyMap<string, Tensor> = new Map(),
): Uint8Array {
  return writeSafetensors(new Map([...params.map((p) => [p.name, parameterTensor(p)] as const), ...state]))
}
