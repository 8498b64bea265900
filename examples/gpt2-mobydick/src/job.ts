/** The job: a zoo GPT-2 sized for the tokeniser, trained with the runtime's `fit`, scored on held-out text. */
import { writeFileSync } from 'node:fs'
import { GPT2_CONFIGS, type GPT2Config, gpt2, writeSafetensors } from '@atoll/core'
import {
  evaluate,
  fit,
  loadTokenizer,
  nodeBackends,
  openDataSource,
  type Parameter,
  parametersOf,
  parameterTensor,
  StepLog,
  type TrainableModel,
} from '@atoll/runtime'
import { sampleText } from './generate.ts'
import { type GptOptions, UsageError } from './options.ts'

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

export async function trainGpt(o: GptOptions, progress: (line: string) => void): Promise<GptSummary> {
  const tokenizer = await loadTokenizer(o.tokens)
  // the size's shape, with the vocabulary of the tokeniser (bytes need 256 rows, BPE 50 257)
  const config: GPT2Config = { ...GPT2_CONFIGS[o.size], vocab: tokenizer.vocabSize }
  const seq = o.seq ?? config.ctx
  if (seq > config.ctx) throw new UsageError(`--seq ${seq} exceeds the ${o.size} context of ${config.ctx}`)
  const zoo = gpt2({ config, seq, seed: o.seed })
  const model: TrainableModel = {
    graph: zoo.graph,
    dataInput: zoo.inputs[0],
    loss: zoo.loss ?? 'loss',
    label: `gpt2:${o.size}`,
  }
  const data = `moby-dick${o.tokens === 'gpt2' ? ':gpt2' : ''}`
  const train = await openDataSource(data, model, { batchSize: o.batchSize, seed: o.seed, split: 'train' })
  const heldOut = await openDataSource(data, model, { batchSize: o.batchSize, split: 'eval' })
  const backend = await nodeBackends().resolve(o.device)
  const evalBatches = Array.from({ length: Math.min(o.evalBatches, heldOut.batchesPerEpoch) }, (_, k) =>
    heldOut.ordered(k),
  )
  const score = (params: readonly Parameter[]) => evaluate(model, params, backend, evalBatches)
  const before = await score(parametersOf(model.graph))
  progress(
    `held-out loss before training ${before.loss.toFixed(4)} ` +
      `(${before.positions / seq} of the ${heldOut.count} held-out sequences of ${seq} tokens)`,
  )

  const log = o.log === undefined ? undefined : new StepLog(o.log)
  const losses: number[] = []
  let seconds = 0
  const result = await fit({
    model,
    backend,
    batch: (k) => train.shuffled(k),
    optimizer: { kind: 'adamw', betas: [0.9, 0.95], weightDecay: 0.1 },
    schedule: { kind: 'cosine', lr: o.lr, warmupSteps: o.warmup, totalSteps: o.steps, minLr: o.lr / 10 },
    clipNorm: o.clip > 0 ? o.clip : undefined,
    steps: o.steps,
    intraOpThreads: o.threads,
    onStep(r) {
      losses.push(r.loss)
      seconds += r.seconds
      log?.write({ step: r.step, loss: r.loss })
      const done = r.step + 1
      if (done % o.logEvery === 0 || done === o.steps) {
        progress(
          `step ${done}/${o.steps}  loss ${mean(losses.slice(-o.logEvery)).toFixed(4)}  ` +
            `lr ${r.lr.toExponential(2)}  ${((done * o.batchSize * seq) / seconds).toFixed(0)} tokens/s`,
        )
      }
    },
  })
  if (o.save !== undefined)
    writeFileSync(o.save, writeSafetensors(new Map(result.params.map((p) => [p.name, parameterTensor(p)]))))
  const after = await score(result.params)
  const sample =
    o.sample === 0
      ? undefined
      : await sampleText({
          config,
          seq,
          params: result.params,
          backend,
          tokenizer,
          prompt: o.prompt,
          count: o.sample,
          temperature: o.temperature,
          seed: o.seed,
        })
  // halves at most, so that a short run compares disjoint windows
  const window = Math.max(1, Math.min(20, Math.floor(losses.length / 2)))
  return {
    model: model.label,
    parameters: result.params.reduce((n, p) => n + p.value.length, 0),
    tokens: tokenizer.name,
    trainSequences: train.count,
    seq,
    steps: o.steps,
    firstLoss: mean(losses.slice(0, window)),
    lastLoss: mean(losses.slice(-window)),
    window,
    heldOutLossBefore: before.loss,
    heldOutLossAfter: after.loss,
    heldOutAccuracy: after.accuracy,
    trainSeconds: seconds,
    tokensPerSecond: (o.steps * o.batchSize * seq) / seconds,
    backend: backend.name,
    sample,
  }
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length
}
