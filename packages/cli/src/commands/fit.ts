import { writeFileSync } from 'node:fs'
import {
  COUNT,
  flagSpec,
  flagValue,
  parseFlags,
  TRAINING_FLAGS,
  type TrainingDefaults,
  trainingOptions,
  trainingUsage,
  UsageError,
  valueFlags,
} from '@atoll/flags'
import * as z from 'zod/mini'
import type { Command } from '../command.ts'
import {
  checkModelFlags,
  deviceHelp,
  MODEL_FLAGS,
  MODEL_USAGE,
  modelAndData,
  readWeights,
} from './model-args.ts'
import { progressBar } from './progress.ts'

/** Only the batch size has a default: a run's optimizer, rate and length are the user's to choose. */
const DEFAULTS: TrainingDefaults = { batchSize: 32 }

const ACTIVATIONS = z.enum(['selective', 'stash', 'recompute'])

/** Made when shown: `--device` lists the runtime's backends, which `atoll fit` alone need not load. */
async function usage(): Promise<string> {
  const { CUDA_STEPS_PER_RUN } = await import('@atoll/runtime')
  return [
    'Usage: atoll fit MODEL.onnx|--model NAME (--batch BATCH.safetensors | --data NAME) --loss cross-entropy',
    '         --optimizer sgd|adamw --lr X --steps N [--log LOSSES.jsonl] [options]',
    '',
    "Trains in one process. Starting weights are the model's own unless --init is given.",
    '',
    'Model and data (--batch-size and --seed apply to --data):',
    ...MODEL_USAGE,
    '  --init FILE            starting weights by parameter name (names and shapes must match)',
    '',
    'Training (the examples take the same flags):',
    ...trainingUsage(DEFAULTS, await deviceHelp()),
    '',
    'Execution:',
    '  --stages S             run the model as S pipeline stages in this process (default 1)',
    '  --pipeline KIND        1f1b (default) | gpipe micro-batch order',
    '  --activations KIND     what backward gets from forward with --stages: selective (default:',
    '                         keep the fewest bytes, recompute cheap ops) | stash (keep all) |',
    '                         recompute (keep nothing); --recompute is --activations recompute',
    '  --steps-per-run K      K AdamW steps in each session run: a GPU gets the weights once per',
    '                         K steps instead of every step (AdamW, 1 stage, fp32, no clipping;',
    `                         default ${CUDA_STEPS_PER_RUN} on cuda where the run allows it, else 1)`,
    '  --checkpoint DIR       resume from DIR if it holds a checkpoint; save there every',
    '  --checkpoint-every K   K steps (default 100) and at the end',
  ].join('\n')
}

const FLAGS = {
  ...MODEL_FLAGS,
  ...flagSpec(TRAINING_FLAGS),
  ...valueFlags(
    'init',
    'stages',
    'pipeline',
    'activations',
    'steps-per-run',
    'checkpoint',
    'checkpoint-every',
  ),
  recompute: { type: 'boolean' },
} as const

export const fit: Command = {
  name: 'fit',
  summary: 'train a model in one process (ONNX file or built-in) on a batch file or a dataset',
  usage,
  async run(args) {
    const { values, positionals } = parseFlags(args, FLAGS, true)
    checkModelFlags(values)
    // every flag is checked before any file is read or backend started
    const rt = await import('@atoll/runtime')
    const training = trainingOptions(values, DEFAULTS, rt.checkFitSettings)
    const execution = {
      stages: flagValue('stages', values.stages, COUNT),
      policy: activationPolicy(flagValue('activations', values.activations, ACTIVATIONS), values.recompute),
      pipelineSchedule: flagValue('pipeline', values.pipeline, z.enum(['1f1b', 'gpipe'])),
      stepsPerRun: flagValue('steps-per-run', values['steps-per-run'], COUNT),
    }
    const every = flagValue('checkpoint-every', values['checkpoint-every'], COUNT) ?? 100
    const checkpoint = values.checkpoint === undefined ? undefined : { dir: values.checkpoint, every }
    const { model, data } = await modelAndData(positionals, values, { ...training, split: 'train' })
    const init = values.init === undefined ? undefined : await readWeights(values.init, '--init')
    const backend = await rt.nodeBackends().resolve(training.device ?? rt.DEFAULT_BACKEND)
    const perRun = rt.stepsPerRunFor({ ...training, ...execution }, backend.name)
    const runs = perRun > 1 ? `, ${perRun} steps per session run` : ''
    const bar = progressBar(training.steps, `fit ${model.label} on ${backend.name}${runs}`)
    const result = await rt.fit({
      model,
      backend,
      batch: 'batch' in data ? () => data.batch : (k) => data.stream.shuffled(k),
      ...training,
      ...execution,
      init,
      checkpoint,
      onStart(from) {
        if (from > 0) console.error(`resuming at step ${from} from ${values.checkpoint}`)
      },
      onStep(r) {
        bar.update(
          r.step + 1,
          r.skipped
            ? `float16 gradients overflowed: step skipped, loss scale halved`
            : `loss ${r.loss.toFixed(4)} lr ${r.lr.toExponential(2)} ${(r.samples / r.seconds).toFixed(1)} samples/s`,
        )
      },
    })
    bar.end()
    if (training.save !== undefined) writeFileSync(training.save, rt.weightsFile(result.params, result.state))
    return 0
  },
}

function activationPolicy(
  chosen: z.output<typeof ACTIVATIONS> | undefined,
  recompute: boolean | undefined,
): z.output<typeof ACTIVATIONS> {
  if (recompute && chosen !== undefined && chosen !== 'recompute')
    throw new UsageError(`--recompute contradicts --activations ${chosen}`)
  return chosen ?? (recompute ? 'recompute' : 'selective')
}
