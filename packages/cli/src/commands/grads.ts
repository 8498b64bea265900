import { writeFileSync } from 'node:fs'
import { flagSpec, ONNX_IMPORT_FLAGS, parseFlags, required, UsageError, valueFlags } from '@atoll/flags'
import type { Command } from '../command.ts'
import { checkModelFlags, deviceHelp, modelFromArgs, ONNX_IMPORT_USAGE, readBatchFile } from './model-args.ts'

/** Made when shown: `--device` lists the runtime's backends. */
async function usage(): Promise<string> {
  return [
    'Usage: atoll grads MODEL.onnx --batch BATCH.safetensors --loss cross-entropy --out GRADS.safetensors',
    '         [--train-constants] [--device D]',
    '',
    "One forward and backward pass of an ONNX model with Atoll's autodiff. BATCH holds one tensor per",
    'graph input, by name, and `targets` (int64 class indices shaped like the first output without its',
    'last dimension). The loss is the mean softmax cross-entropy of the first output against targets.',
    'GRADS gets `loss` (float32 [1]) and `grad.<initializer>` for every trainable floating-point',
    'initializer (BatchNormalization running statistics are not trainable).',
    '',
    'Options:',
    ...ONNX_IMPORT_USAGE,
    `  --device D             ${await deviceHelp()}`,
  ].join('\n')
}

export const grads: Command = {
  name: 'grads',
  summary: "compute an ONNX model's loss and parameter gradients on one batch",
  usage,
  async run(args) {
    const flags = { ...valueFlags('batch', 'loss', 'out', 'device'), ...flagSpec(ONNX_IMPORT_FLAGS) }
    const { values, positionals } = parseFlags(args, flags, true)
    const batchFile = required('batch', values.batch, 'BATCH.safetensors')
    const out = required('out', values.out, 'GRADS.safetensors')
    checkModelFlags(values)
    if (positionals.length !== 1) throw new UsageError('give exactly one MODEL.onnx')
    const { computeGradients, DEFAULT_BACKEND, nodeBackends } = await import('@atoll/runtime')
    const { writeSafetensors } = await import('@atoll/core')
    // one gradient per initializer in the file: duplicated tied weights are reported separately
    const trainConstants = values['train-constants']
    const model = await modelFromArgs(positionals, undefined, { retie: false, trainConstants })
    const batch = await readBatchFile(batchFile, model)
    const backend = await nodeBackends().resolve(values.device ?? DEFAULT_BACKEND)
    const result = await computeGradients(model.graph, batch, backend, model.loss)
    writeFileSync(out, writeSafetensors(result.tensors))
    console.error(`loss ${result.loss} · ${result.tensors.size - 1} gradients → ${out}`)
    return 0
  },
}
