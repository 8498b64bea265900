/**
 * The FL.yaml file of `atoll fl serve`: the federation's model, data, strategy, rounds, client
 * selection, deadline, local training, server step, evaluation and checkpoint folder, read into a
 * typed, defaulted FlSpec before the server starts (docs/fl.md lists the fields). Errors name the
 * file, the field, what was expected and what was found; objects are strict.
 */
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { type FieldProblem, parseWith } from '@atoll/core'
import { IMAGE_DATASETS } from '@atoll/runtime'
import { FEDERATION_NAME, type FlStrategy, MAX_FL_ROUNDS } from '@atoll/sync'
import * as z from 'zod/mini'
import { FlSpecError } from './errors.ts'
import { readYaml } from '../yaml-file.ts'

/**
 * Zoo models a federation can train: the image classifiers. The MNIST CNN's BatchNorm running
 * statistics are tensors of the global model, sent dense and averaged by sample count every round.
 */
export const FL_MODELS = ['mlp', 'mnist-cnn'] as const
const count = z.int().check(z.gte(1))
const seed = z.int().check(z.gte(0), z.lte(2 ** 31))
const ratio = z.number().check(z.gt(0), z.lte(1))
const path = z.string().check(z.minLength(1), z.maxLength(4096))

const model = z.union(
  [
    z.pipe(
      z.enum(FL_MODELS),
      z.transform((zoo) => ({ zoo, seed: 0 })),
    ),
    z.strictObject({ zoo: z.enum(FL_MODELS), seed: z._default(seed, 0) }),
  ],
  { error: `a zoo image classifier (${FL_MODELS.join(', ')}), or { zoo, seed }` },
)

const strategy = z.union(
  [
    z.pipe(
      z.literal('fedavg'),
      z.transform((): FlStrategy => ({ name: 'fedavg' })),
    ),
    z.discriminatedUnion('name', [
      z.strictObject({ name: z.literal('fedavg') }),
      z.strictObject({ name: z.literal('fedavg-topk'), keepRatio: ratio }),
      z.strictObject({
        name: z.literal('bcrs-opwa'),
        keepRatio: ratio,
        minRatio: z.optional(ratio),
        maxRatio: z.optional(ratio),
      }),
    ]),
  ],
  {
    error:
      'fedavg, { name: fedavg-topk, keepRatio }, or { name: bcrs-opwa, keepRatio, minRatio?, maxRatio? }',
  },
)

const flFile = z.strictObject({
  name: z.string().check(
    z.regex(FEDERATION_NAME, {
      error: 'a federation name: 1 to 64 of a-z, 0-9, ".", "_", "-", the first a letter or digit',
    }),
  ),
  model,
  dataset: z.enum(IMAGE_DATASETS),
  strategy: z._default(strategy, { name: 'fedavg' }),
  rounds: count.check(z.lte(MAX_FL_ROUNDS)),
  clients: z._default(
    z.strictObject({
      fraction: z._default(ratio, 1),
      min: z._default(count, 1),
      seed: z._default(seed, 0),
    }),
    { fraction: 1, min: 1, seed: 0 },
  ),
  deadlineSeconds: z._default(z.number().check(z.gt(0), z.lte(86_400)), 60),
  local: z._default(
    z.strictObject({
      epochs: z._default(count.check(z.lte(1000)), 1),
      maxSteps: z._default(z.int().check(z.gte(0), z.lte(1_000_000)), 0),
      batchSize: z._default(count.check(z.lte(1 << 16)), 32),
      lr: z._default(z.number().check(z.gte(0), z.lte(1e3)), 0.05),
      momentum: z._default(z.number().check(z.gte(0), z.lt(1)), 0),
    }),
    { epochs: 1, maxSteps: 0, batchSize: 32, lr: 0.05, momentum: 0 },
  ),
  server: z._default(z.strictObject({ lr: z._default(z.number().check(z.gt(0), z.lte(1e3)), 1) }), { lr: 1 }),
  eval: z._default(
    z.strictObject({
      samples: z._default(count.check(z.lte(1_000_000)), 2000),
      batchSize: z._default(count.check(z.lte(1 << 16)), 250),
    }),
    { samples: 2000, batchSize: 250 },
  ),
  checkpoint: z._default(z.strictObject({ dir: z.optional(path) }), {}),
})

type FlFields = z.output<typeof flFile>

/** A parsed FL.yaml: every field checked and defaulted, the checkpoint folder absolute. */
export type FlSpec = Omit<FlFields, 'checkpoint'> & { source: string; checkpoint: { dir: string } }

/** Reads and parses the FL.yaml file at `path`. */
export function readFlFile(path: string): FlSpec {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new FlSpecError(`cannot read ${path}: ${(err as Error).message}`)
  }
  return parseFlSpec(text, path)
}

/**
 * Parses an FL.yaml's text; `source` is its path: errors start with it, and a relative checkpoint
 * folder starts from its folder (default `checkpoints/NAME` beside it).
 */
export function parseFlSpec(text: string, source: string): FlSpec {
  const fail = (problem: FieldProblem) => new FlSpecError(`${source}: ${problem.message}`)
  const fields = parseWith(
    flFile,
    readYaml(text, source, (message) => new FlSpecError(message)),
    fail,
  )
  if (fields.eval.batchSize > fields.eval.samples)
    throw new FlSpecError(
      `${source}: eval.batchSize: expected at most eval.samples (${fields.eval.samples}), found ${fields.eval.batchSize}`,
    )
  if (fields.strategy.name === 'bcrs-opwa') {
    const { keepRatio, minRatio, maxRatio } = fields.strategy
    if ((minRatio ?? 0) > keepRatio || (maxRatio ?? 1) < keepRatio)
      throw new FlSpecError(
        `${source}: strategy.keepRatio: expected between minRatio and maxRatio, found ${keepRatio}`,
      )
  }
  const folder = dirname(resolve(source))
  const dir = resolve(folder, fields.checkpoint.dir ?? join('checkpoints', fields.name))
  return { ...fields, source, checkpoint: { dir } }
}
