/**
 * The job file's schema: each field's type, range and default (docs/jobs.md lists them), and the
 * rules that span fields. The optimizer and the schedule are the runtime's own schemas, and the
 * training fields carry `atoll fit`'s names and defaults, so a job takes exactly what `atoll fit`
 * takes. Objects are strict: a misspelt key in a file someone wrote is an error, not a default.
 */
import { GPT2_CONFIGS } from '@atoll/core'
import { CORPORA, IMAGE_DATASETS, lrSchedule, optimizerSpec, TOKENIZERS, ZOO_MODELS } from '@atoll/runtime'
import * as z from 'zod/mini'
import { synchronizerSpec } from '@atoll/sync'
import { peerAddress } from '../config.ts'

/** A job id: it tags the job's tensors on the wire and names its checkpoint folder. */
export const JOB_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/
/** `atoll fit`'s `--batch-size` default: a job that leaves it out trains as `atoll fit` would. */
export const DEFAULT_BATCH_SIZE = 32
/** `atoll fit`'s `--checkpoint-every` default. */
export const DEFAULT_CHECKPOINT_EVERY = 100
/** Held-out loss every 100 steps over 20 batches: the gpt2-mobydick example's evaluation. */
export const DEFAULT_EVAL = { every: 100, batches: 20 } as const
/** Bounds on lists in a file, so that a runaway generator cannot make a job hold millions of entries. */
const MAX_PEERS = 1024
const MAX_STAGES = 1024
const MAX_SCOPES = 4096

const count = z.int().check(z.gte(1))
const seed = z.int().check(z.gte(0))
const path = z.string().check(z.minLength(1), z.maxLength(4096))
const label = z.string().check(z.minLength(1), z.maxLength(256))

const zooName = z.enum(ZOO_MODELS)
const zooModel = z.strictObject({ zoo: zooName, seed: z._default(seed, 0), init: z.optional(path) })
const onnxModel = z.strictObject({ onnx: path, retie: z._default(z.boolean(), true), init: z.optional(path) })
const MODEL_NAME = `a zoo model (${ZOO_MODELS.join(', ')}) or the path of an .onnx file`

/** `model: gpt2:tiny` or `model: exported.onnx`: the object forms with their defaults. */
const modelByName = z.pipe(
  z.string(),
  z.transform((text, ctx): z.output<typeof zooModel> | z.output<typeof onnxModel> => {
    if ((ZOO_MODELS as readonly string[]).includes(text))
      return { zoo: text as z.output<typeof zooName>, seed: 0 }
    if (/\.onnx$/i.test(text) && text.length <= 4096) return { onnx: text, retie: true }
    ctx.issues.push({ code: 'custom', input: text, message: MODEL_NAME })
    return z.NEVER
  }),
)

const data = z.strictObject({
  dataset: z.enum([...CORPORA, ...IMAGE_DATASETS]),
  tokenizer: z.optional(z.enum(TOKENIZERS)),
  seq: z.optional(count),
  batchSize: z._default(count, DEFAULT_BATCH_SIZE),
  seed: z._default(seed, 0),
})

const placedStage = z.strictObject({
  peer: label,
  scopes: z.array(label).check(z.minLength(1), z.maxLength(MAX_SCOPES)),
})

/** A list of stages in the file is sched's `{ stages }` placement. */
const placement = z.union([
  z.enum(['fence', 'even', 'random']),
  z.pipe(
    z.array(placedStage).check(z.minLength(1), z.maxLength(MAX_STAGES)),
    z.transform((stages) => ({ stages })),
  ),
])

const compression = z.union([
  z.enum(['adatopk', 'none']),
  z.discriminatedUnion('codec', [
    z.strictObject({ codec: z.enum(['fp16', 'int8']) }),
    z.strictObject({ codec: z.literal('topk-fp16'), keep: z.number().check(z.gt(0), z.lte(1)) }),
  ]),
])

const fields = z.strictObject({
  name: z.string().check(
    z.regex(JOB_NAME, {
      error: 'a job name: 1 to 64 of a-z, 0-9, ".", "_", "-", the first a letter or digit',
    }),
  ),
  model: z.union([modelByName, zooModel, onnxModel], {
    error: `${MODEL_NAME}, or an object { zoo, seed, init } or { onnx, retie, init }`,
  }),
  data,
  loss: z._default(z.literal('cross-entropy'), 'cross-entropy'),
  // before `schedule`, whose cosine takes its length from here: a bad count is named here first
  steps: count,
  optimizer: optimizerSpec,
  schedule: lrSchedule,
  clip: z._default(z.number().check(z.gte(0)), 0),
  microBatches: z._default(count, 1),
  placement: z._default(placement, 'fence'),
  compression: z._default(compression, 'adatopk'),
  sync: z.optional(synchronizerSpec),
  peers: z._default(z.array(peerAddress).check(z.maxLength(MAX_PEERS)), []),
  checkpoint: z._default(
    z.strictObject({ dir: z.optional(path), every: z._default(count, DEFAULT_CHECKPOINT_EVERY) }),
    { every: DEFAULT_CHECKPOINT_EVERY },
  ),
  eval: z._default(
    z.strictObject({
      every: z._default(z.int().check(z.gte(0)), DEFAULT_EVAL.every),
      batches: z._default(count, DEFAULT_EVAL.batches),
    }),
    { ...DEFAULT_EVAL },
  ),
})

export type JobFields = z.output<typeof fields>

/** The job file as written, every field checked and defaulted; paths still as written. */
export const jobFile = fields.check(
  z.superRefine((job, ctx) => {
    const problem = crossFieldProblem(job)
    if (problem !== undefined) ctx.issues.push({ code: 'custom', ...problem })
  }),
)

interface Problem {
  path: PropertyKey[]
  input: unknown
  message: string
}

/** The first rule between fields that `job` breaks: data that fits the model, micro-batches that fit a batch. */
function crossFieldProblem(job: JobFields): Problem | undefined {
  return dataProblem(job) ?? modelDataProblem(job) ?? microBatchProblem(job)
}

const isText = (dataset: string) => (CORPORA as readonly string[]).includes(dataset)

/** Tokens and sequence lengths belong to text. */
function dataProblem({ data }: JobFields): Problem | undefined {
  if (isText(data.dataset)) return undefined
  const images = `${data.dataset} holds images`
  if (data.tokenizer !== undefined)
    return { path: ['data', 'tokenizer'], input: data.tokenizer, message: `no tokenizer (${images})` }
  if (data.seq !== undefined)
    return { path: ['data', 'seq'], input: data.seq, message: `no sequence length (${images})` }
  return undefined
}

/** A zoo GPT reads text within its context; the zoo's other models read images. */
function modelDataProblem({ model, data }: JobFields): Problem | undefined {
  if (!('zoo' in model)) return undefined // an ONNX model's input is known once the file is read
  const gpt = model.zoo.startsWith('gpt2:')
  if (gpt !== isText(data.dataset)) {
    const wanted = gpt
      ? `a text dataset (${CORPORA.join(', ')})`
      : `an image dataset (${IMAGE_DATASETS.join(', ')})`
    return { path: ['data', 'dataset'], input: data.dataset, message: `${wanted} for ${model.zoo}` }
  }
  const ctx = gpt ? GPT2_CONFIGS[model.zoo.slice(5) as keyof typeof GPT2_CONFIGS].ctx : undefined
  if (ctx !== undefined && data.seq !== undefined && data.seq > ctx)
    return {
      path: ['data', 'seq'],
      input: data.seq,
      message: `an integer in [1, ${ctx}] (${model.zoo}'s context)`,
    }
  return undefined
}

/** The runtime splits each batch into equal micro-batches. */
function microBatchProblem({ data, microBatches }: JobFields): Problem | undefined {
  if (data.batchSize % microBatches === 0) return undefined
  return {
    path: ['microBatches'],
    input: microBatches,
    message: `a divisor of data.batchSize (${data.batchSize})`,
  }
}
