/** The job: a zoo GPT-2 sized for the tokeniser, trained with the runtime's `fit`, scored on held-out text. */
import { writeFileSync } from 'node:fs'
import { GPT2_CONFIGS, type GPT2Config, gpt2 } from '@atoll/core'
import { UsageError } from '@atoll/flags'
import {
  DEFAULT_BACKEND,
  evaluate,
  fit,
  loadTokenizer,
  lossTrend,
  nodeBackends,
  openDataSource,
  type Parameter,
  parametersOf,
  stepProgress,
  type TrainableModel,
  weightsFile,
} from '@atoll/runtime'
import { sampleText } from './generate.ts'
import type { GptOptions } from './options.ts'

export interface GptSummary {
  model: string
  parameters: number
  tokens: string
  trainSequences: number
  seq: number
  steps: number
  /** mean training loss over the first and the last `window` steps (nats per token) */
  firstLoss: number
  lastLoss: number
  window: number
  heldOutLossBefore: number
  heldOutLossAfter: number
  heldOutAccuracy: number
  trainSeconds: number
  tokensPerSecond: number
  backend: string
  sample?: string
}

export async function trainGpt(options: GptOptions, progress: (line: string) => void): Promise<GptSummary> {
  const { training } = options
  const tokenizer = await loadTokenizer(options.tokens)
  // the size's shape, with the vocabulary of the tokeniser (bytes need 256 rows, BPE 50 257)
  const config: GPT2Config = { ...GPT2_CONFIGS[options.size], vocab: tokenizer.vocabSize }
  const seq = options.seq ?? config.ctx
  if (seq > config.ctx)
    throw new UsageError(`--seq ${seq} exceeds the ${options.size} context of ${config.ctx}`)
  const zoo = gpt2({ config, seq, seed: training.seed })
  const model: TrainableModel = {
    graph: zoo.graph,
    dataInput: zoo.inputs[0],
    loss: zoo.loss ?? 'loss',
    label: `gpt2:${options.size}`,
  }
  const data = `moby-dick${options.tokens === 'gpt2' ? ':gpt2' : ''}`
  const train = await openDataSource(data, model, { ...training, split: 'train' })
  const heldOut = await openDataSource(data, model, { batchSize: training.batchSize, split: 'eval' })
  const backend = await nodeBackends().resolve(training.device ?? DEFAULT_BACKEND)
  const evalBatches = Array.from({ length: Math.min(options.evalBatches, heldOut.batchesPerEpoch) }, (_, k) =>
    heldOut.ordered(k),
  )
  const score = (params: readonly Parameter[]) => evaluate(model, params, backend, evalBatches)
  const before = await score(parametersOf(model.graph))
  progress(
    `held-out loss before training ${before.loss.toFixed(4)} ` +
      `(${before.positions / seq} of the ${heldOut.count} held-out sequences of ${seq} tokens)`,
  )

  const { steps, batchSize } = training
  const onStep = stepProgress(steps, options.logEvery, (p) =>
    progress(
      `step ${p.done}/${steps}  loss ${p.loss.toFixed(4)}  lr ${p.lr.toExponential(2)}  ` +
        `${((p.done * batchSize * seq) / p.seconds).toFixed(0)} tokens/s`,
    ),
  )
  const result = await fit({ model, backend, batch: (k) => train.shuffled(k), ...training, onStep })
  if (training.save !== undefined) writeFileSync(training.save, weightsFile(result.params))
  const after = await score(result.params)
  const sample =
    options.sample === 0
      ? undefined
      : await sampleText({
          config,
          seq,
          params: result.params,
          backend,
          tokenizer,
          prompt: options.prompt,
          count: options.sample,
          temperature: options.temperature,
          seed: training.seed,
        })
  return {
    model: model.label,
    parameters: result.params.reduce((n, p) => n + p.value.length, 0),
    tokens: tokenizer.name,
    trainSequences: train.count,
    seq,
    steps,
    ...lossTrend(result.losses),
    heldOutLossBefore: before.loss,
    heldOutLossAfter: after.loss,
    heldOutAccuracy: after.accuracy,
    trainSeconds: result.seconds,
    tokensPerSecond: (steps * batchSize * seq) / result.seconds,
    backend: backend.name,
    sample,
  }
}
