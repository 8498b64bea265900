import { writeFileSync } from 'node:fs'
import type { Tensor } from '@atoll/core'
import type { LrSchedule, OptimizerSpec } from '@atoll/runtime'
import type { Command } from '../command.ts'
import { UsageError } from '../command.ts'
import { numberFlag, parseFlags } from '../flags.ts'
import { DEVICE_HELP, modelFromArgs, readInput, requireLoss } from './model-args.ts'
import { progressBar } from './progress.ts'

const usage = [
  'Usage: atoll fit MODEL.onnx|--model NAME (--batch BATCH.safetensors | --data NAME) --loss cross-entropy',
  '         --optimizer sgd|adamw --lr X [--momentum M] [--betas B1,B2] [--eps E] [--weight-decay W]',
  '         --steps N --log LOSSES.jsonl [options]',
  '',
  'Trains in one process. The log gets one JSON line per step, { "step": i, "loss": value }, the loss',
  "computed before step i's update. Starting weights are the model's own unless --init is given.",
  '',
  'Options:',
  '  --model NAME           gpt2:tiny|mini|small|124M, mlp, mnist-cnn, resnet18',
  '  --data NAME            moby-dick[:gpt2], sotu[:gpt2], mnist, fashion-mnist (with --batch-size, --seed)',
  '  --batch-size N         samples per step with --data (default 32)',
  '  --init FILE            starting weights by parameter name (names and shapes must match)',
  '  --nesterov             Nesterov momentum (sgd)',
  '  --dampening D          momentum dampening (sgd, default 0)',
  '  --amsgrad              AMSGrad variant (adamw)',
  '  --optimizer-threads N  run the AdamW update on N threads (bit-identical to 1)',
  '  --schedule KIND        constant (default) | cosine (linear warm-up, then cosine to --min-lr)',
  '  --warmup N, --min-lr X warm-up steps and floor of the cosine schedule',
  '  --clip NORM            clip the global gradient 2-norm',
  '  --micro-batches M      split each batch into M micro-batches (gradients accumulate)',
  '  --stages S             run the model as S pipeline stages in this process (default 1)',
  '  --pipeline KIND        1f1b (default) | gpipe micro-batch order',
  '  --activations KIND     what backward gets from forward with --stages: selective (default:',
  '                         keep the fewest bytes, recompute cheap ops) | stash (keep all) |',
  '                         recompute (keep nothing); --recompute is --activations recompute',
  '  --checkpoint DIR       resume from DIR if it holds a checkpoint; save there every',
  '  --checkpoint-every K   K steps (default 100) and at the end',
  '  --save FILE            write the final weights as safetensors',
  `  --device D             ${DEVICE_HELP}`,
  '  --threads N            onnxruntime intra-op threads',
  '  --seed N               data order seed (default 0)',
].join('\n')

const flags = {
  model: { type: 'string' },
  batch: { type: 'string' },
  data: { type: 'string' },
  'batch-size': { type: 'string' },
  loss: { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  dampening: { type: 'string' },
  nesterov: { type: 'boolean' },
  betas: { type: 'string' },
  eps: { type: 'string' },
  'weight-decay': { type: 'string' },
  amsgrad: { type: 'boolean' },
  'optimizer-threads': { type: 'string' },
  schedule: { type: 'string' },
  warmup: { type: 'string' },
  'min-lr': { type: 'string' },
  clip: { type: 'string' },
  steps: { type: 'string' },
  log: { type: 'string' },
  init: { type: 'string' },
  'micro-batches': { type: 'string' },
  stages: { type: 'string' },
  pipeline: { type: 'string' },
  recompute: { type: 'boolean' },
  activations: { type: 'string' },
  checkpoint: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  save: { type: 'string' },
  device: { type: 'string' },
  threads: { type: 'string' },
  seed: { type: 'string' },
} as const

type Values = ReturnType<typeof parseFlags<typeof flags>>['values']

export const fit: Command = {
  name: 'fit',
  summary: 'train a model in one process (ONNX file or built-in) on a batch file or a dataset',
  usage,
  async run(args) {
    const { values, positionals } = parseFlags(args, flags, true)
    requireLoss(values.loss)
    const steps = integer('steps', values.steps, 0)
    if (steps === undefined) throw new UsageError('--steps N is required')
    const lr = numberFlag('lr', values.lr, 0)
    if (lr === undefined) throw new UsageError('--lr X is required')
    const optimizer = optimizerSpec(values)
    const schedule = scheduleSpec(values, lr, steps)
    // every flag is checked before any file is read or backend started
    const checkpointEvery = integer('checkpoint-every', values['checkpoint-every'], 1) ?? 100
    const training = {
      clipNorm: numberFlag('clip', values.clip, 0),
      microBatches: integer('micro-batches', values['micro-batches'], 1),
      stages: integer('stages', values.stages, 1),
      policy: activationPolicy(values.activations, values.recompute),
      pipelineSchedule: pipelineKind(values.pipeline),
      intraOpThreads: integer('threads', values.threads, 1),
    }
    if ((values.batch === undefined) === (values.data === undefined)) {
      throw new UsageError('give the data: --batch BATCH.safetensors or --data NAME (not both)')
    }
    const rt = await import('@atoll/runtime')
    const { readSafetensors } = await import('@atoll/core')
    const seed = integer('seed', values.seed, 0) ?? 0
    const model = await modelFromArgs(positionals, values.model, { seed })
    let batchOf: (step: number) => Record<string, Tensor>
    if (values.batch !== undefined) {
      const fixed = rt.readBatch(readInput(values.batch, 'batch'), model.graph, values.batch)
      batchOf = () => fixed
    } else {
      const batchSize = integer('batch-size', values['batch-size'], 1) ?? 32
      const stream = await rt.openDataSource(values.data!, model, { batchSize, seed, split: 'train' })
      batchOf = (k) => stream.shuffled(k)
    }
    const init =
      values.init === undefined ? undefined : readSafetensors(readInput(values.init, '--init')).tensors
    const backend = await rt.nodeBackends().resolve(values.device ?? rt.DEFAULT_BACKEND)
    const bar = progressBar(steps, `fit ${model.label} on ${backend.name}`)
    let log: InstanceType<typeof rt.StepLog> | undefined
    const result = await rt.fit({
      model,
      backend,
      batch: batchOf,
      optimizer,
      schedule,
      steps,
      init,
      ...training,
      checkpoint:
        values.checkpoint === undefined
          ? undefined
          : {
              dir: values.checkpoint,
              every: checkpointEvery,
            },
      onStart(from) {
        if (values.log !== undefined) log = new rt.StepLog(values.log, from)
        if (from > 0) console.error(`resuming at step ${from} from ${values.checkpoint}`)
      },
      onStep(r) {
        log?.write({ step: r.step, loss: r.loss })
        bar.update(
          r.step + 1,
          `loss ${r.loss.toFixed(4)} lr ${r.lr.toExponential(2)} ${(r.samples / r.seconds).toFixed(1)} samples/s`,
        )
      },
    })
    bar.end()
    if (values.save !== undefined) {
      const { writeSafetensors } = await import('@atoll/core')
      writeFileSync(
        values.save,
        // BatchNorm running statistics travel with the weights: evaluation normalises with them
        writeSafetensors(
          new Map([...result.params.map((p) => [p.name, rt.parameterTensor(p)] as const), ...result.state]),
        ),
      )
    }
    return 0
  },
}

function integer(name: string, value: string | undefined, min: number): number | undefined {
  const n = numberFlag(name, value, min)
  if (n !== undefined && !Number.isInteger(n))
    throw new UsageError(`--${name} must be an integer, got '${value}'`)
  return n
}

function optimizerSpec(values: Values): OptimizerSpec {
  const weightDecay = numberFlag('weight-decay', values['weight-decay'], 0)
  const kind = values.optimizer
  if (kind === 'sgd') {
    if (
      values.betas !== undefined ||
      values.eps !== undefined ||
      values.amsgrad ||
      values['optimizer-threads']
    ) {
      throw new UsageError('--betas, --eps, --amsgrad and --optimizer-threads are AdamW options')
    }
    return {
      kind,
      momentum: numberFlag('momentum', values.momentum, 0),
      dampening: numberFlag('dampening', values.dampening, 0, 1),
      nesterov: values.nesterov ?? false,
      weightDecay,
    }
  }
  if (kind === 'adamw') {
    if (values.momentum !== undefined || values.dampening !== undefined || values.nesterov) {
      throw new UsageError('--momentum, --dampening and --nesterov are SGD options')
    }
    return {
      kind,
      betas: betasFlag(values.betas),
      eps: numberFlag('eps', values.eps, 0),
      weightDecay,
      amsgrad: values.amsgrad,
    }
  }
  throw new UsageError(`--optimizer must be sgd or adamw, got '${kind ?? ''}'`)
}

function betasFlag(value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined
  const parts = value.split(',')
  if (parts.length !== 2) throw new UsageError(`--betas takes B1,B2, got '${value}'`)
  return [numberFlag('betas', parts[0], 0, 0.999999)!, numberFlag('betas', parts[1], 0, 0.999999)!]
}

function scheduleSpec(values: Values, lr: number, steps: number): LrSchedule {
  const kind = values.schedule ?? 'constant'
  if (kind === 'constant') {
    if (values.warmup !== undefined || values['min-lr'] !== undefined)
      throw new UsageError('--warmup and --min-lr need --schedule cosine')
    return { kind, lr }
  }
  if (kind !== 'cosine') throw new UsageError(`--schedule must be constant or cosine, got '${kind}'`)
  return {
    kind,
    lr,
    warmupSteps: integer('warmup', values.warmup, 0) ?? 0,
    totalSteps: steps,
    minLr: numberFlag('min-lr', values['min-lr'], 0, lr) ?? 0,
  }
}

function activationPolicy(
  value: string | undefined,
  recompute: boolean | undefined,
): 'selective' | 'stash' | 'recompute' {
  if (recompute && value !== undefined && value !== 'recompute')
    throw new UsageError(`--recompute contradicts --activations ${value}`)
  const policy = value ?? (recompute ? 'recompute' : 'selective')
  if (policy === 'selective' || policy === 'stash' || policy === 'recompute') return policy
  throw new UsageError(`--activations must be selective, stash or recompute, got '${value}'`)
}

function pipelineKind(value: string | undefined): 'gpipe' | '1f1b' | undefined {
  if (value === undefined || value === 'gpipe' || value === '1f1b') return value
  throw new UsageError(`--pipeline must be 1f1b or gpipe, got '${value}'`)
}
