import { COUNT, flagValue, parseFlags, valueFlags } from '@atoll/flags'
import type { Command } from '../command.ts'
import {
  checkModelFlags,
  deviceHelp,
  MODEL_FLAGS,
  MODEL_USAGE,
  modelAndData,
  readWeights,
} from './model-args.ts'

/** Made when shown: `--device` lists the runtime's backends. */
async function usage(): Promise<string> {
  return [
    'Usage: atoll eval MODEL.onnx|--model NAME [--weights FILE.safetensors] (--batch BATCH.safetensors | --data NAME)',
    '',
    'Held-out loss and accuracy (arg-max of the first output against targets), printed as one JSON',
    'line: { "loss", "accuracy", "batches", "positions" }. With --data the held-out split is used: the',
    'last tenth of a corpus, or the test images.',
    '',
    'Options:',
    ...MODEL_USAGE,
    '  --weights FILE         weights by parameter name (e.g. from atoll fit --save); default the model own',
    '  --batch-size N         samples per batch with --data (default 100)',
    '  --batches N            evaluate only the first N batches',
    `  --device D             ${await deviceHelp()}`,
  ].join('\n')
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'held-out loss and accuracy of a model',
  usage,
  async run(args) {
    const flags = { ...MODEL_FLAGS, ...valueFlags('weights', 'batch-size', 'batches', 'device') }
    const { values, positionals } = parseFlags(args, flags, true)
    checkModelFlags(values)
    const batchSize = flagValue('batch-size', values['batch-size'], COUNT) ?? 100
    const limit = flagValue('batches', values.batches, COUNT) ?? Infinity
    const rt = await import('@atoll/runtime')
    const { model, data } = await modelAndData(positionals, values, { batchSize, split: 'eval' })
    const params = rt.parametersOf(model.graph)
    if (values.weights !== undefined) {
      const tensors = await readWeights(values.weights, '--weights')
      rt.assignParameters(params, tensors, { source: values.weights, state: rt.modelState(model.graph) })
    }
    const batches =
      'batch' in data
        ? [data.batch]
        : Array.from({ length: Math.min(data.stream.batchesPerEpoch, limit) }, (_, k) =>
            data.stream.ordered(k),
          )
    const backend = await rt.nodeBackends().resolve(values.device ?? rt.DEFAULT_BACKEND)
    console.log(JSON.stringify(await rt.evaluate(model, params, backend, batches)))
    return 0
  },
}
