import type { Tensor } from '@atoll/core'
import type { Command } from '../command.ts'
import { UsageError } from '../command.ts'
import { numberFlag, parseFlags } from '../flags.ts'
import { DEVICE_HELP, modelFromArgs, readInput, requireLoss } from './model-args.ts'

const usage = [
  'Usage: atoll eval MODEL.onnx|--model NAME [--weights FILE.safetensors] (--batch BATCH.safetensors | --data NAME)',
  '',
  'Held-out loss and accuracy (arg-max of the first output against targets), printed as one JSON',
  'line: { "loss", "accuracy", "batches", "positions" }. With --data the held-out split is used: the',
  'last tenth of a corpus, or the test images.',
  '',
  'Options:',
  '  --weights FILE     weights by parameter name (e.g. from atoll fit --save); default the model own',
  '  --batch-size N     samples per batch with --data (default 100)',
  '  --batches N        evaluate only the first N batches',
  '  --loss cross-entropy',
  `  --device D         ${DEVICE_HELP}`,
].join('\n')

export const evalCommand: Command = {
  name: 'eval',
  summary: 'held-out loss and accuracy of a model',
  usage,
  async run(args) {
    const { values, positionals } = parseFlags(
      args,
      {
        model: { type: 'string' },
        weights: { type: 'string' },
        batch: { type: 'string' },
        data: { type: 'string' },
        'batch-size': { type: 'string' },
        batches: { type: 'string' },
        loss: { type: 'string' },
        device: { type: 'string' },
      },
      true,
    )
    requireLoss(values.loss)
    if ((values.batch === undefined) === (values.data === undefined)) {
      throw new UsageError('give the data: --batch BATCH.safetensors or --data NAME (not both)')
    }
    const rt = await import('@atoll/runtime')
    const { readSafetensors } = await import('@atoll/core')
    const model = await modelFromArgs(positionals, values.model)
    const params = rt.parametersOf(model.graph)
    if (values.weights !== undefined) {
      const tensors = readSafetensors(readInput(values.weights, 'weights')).tensors
      rt.assignParameters(params, tensors, { source: values.weights, state: rt.modelState(model.graph) })
    }
    let batches: Record<string, Tensor>[]
    if (values.batch !== undefined) {
      batches = [rt.readBatch(readInput(values.batch, 'batch'), model.graph, values.batch)]
    } else {
      const size = numberFlag('batch-size', values['batch-size'], 1) ?? 100
      const stream = await rt.openDataSource(values.data!, model, { batchSize: size, split: 'eval' })
      const limit = Math.min(stream.batchesPerEpoch, numberFlag('batches', values.batches, 1) ?? Infinity)
      batches = Array.from({ length: limit }, (_, k) => stream.ordered(k))
    }
    const backend = await rt.nodeBackends().resolve(values.device ?? rt.DEFAULT_BACKEND)
    const result = await rt.evaluate(model, params, backend, batches)
    console.log(JSON.stringify(result))
    return 0
  },
}
