/** Flags shared by `atoll grads`, `fit` and `eval`: which model, which device, which batch file. */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import type { TrainableModel } from '@atoll/runtime'
import { UsageError } from '../command.ts'

/** A model from a positional ONNX path or `--model NAME` (exactly one). */
export async function modelFromArgs(
  positionals: string[],
  modelName: string | undefined,
  options: { retie?: boolean; seed?: number } = {},
): Promise<TrainableModel> {
  const { onnxModel, zooModel } = await import('@atoll/runtime')
  if (positionals.length > 1) throw new UsageError(`one model at a time, got ${positionals.join(', ')}`)
  if ((positionals.length === 1) === (modelName !== undefined)) {
    throw new UsageError('give a model: MODEL.onnx or --model NAME (not both)')
  }
  if (modelName !== undefined) return zooModel(modelName, options.seed)
  const path = positionals[0]
  return onnxModel(readInput(path, 'model'), { retie: options.retie, label: basename(path) })
}

export function readInput(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path))
  } catch (err) {
    throw new UsageError(`cannot read the ${what} file '${path}': ${(err as Error).message}`)
  }
}

export function requireLoss(loss: string | undefined): void {
  if (loss !== undefined && loss !== 'cross-entropy') {
    throw new UsageError(`--loss must be cross-entropy (the only loss so far), got '${loss}'`)
  }
}

export const DEVICE_HELP = 'cpu (default) | webgpu | cuda | gpu | auto | reference'
