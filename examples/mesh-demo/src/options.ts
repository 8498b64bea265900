/**
 * The demo's flags and its usage: one table, which `atoll demo --help` shows too (the CLI runs this
 * example), so the defaults it prints are the ones it runs with.
 */
import {
  COUNT,
  flagSpec,
  flagUsage,
  numeric,
  outputFlag,
  parseFlags,
  readFlags,
  UsageError,
} from '@atoll/flags'
import * as z from 'zod/mini'
import type { DemoOptions } from './job.ts'

const FLAGS = {
  steps: { arg: 'N', what: 'optimizer steps', schema: COUNT, default: 150 },
  'batch-size': { arg: 'B', what: 'sequences of 32 bytes per step', schema: COUNT, default: 16 },
  'micro-batches': { arg: 'M', what: 'micro-batches per step; must divide B', schema: COUNT, default: 2 },
  lr: {
    arg: 'X',
    what: 'peak learning rate of the cosine schedule',
    schema: numeric(z.number().check(z.gte(0))),
    default: 3e-3,
  },
  seed: { arg: 'S', what: 'weights and data order', schema: numeric(z.int().check(z.gte(0))), default: 0 },
  'log-every': { arg: 'K', what: 'progress every K steps', schema: COUNT, default: 10 },
  json: {
    arg: 'FILE',
    what: 'write the summary (links, placement, losses, bytes per link) as JSON',
    schema: z.string().check(z.minLength(1)),
  },
}

export const USAGE = [
  'Usage: atoll demo [--steps N] [--batch-size B] [--micro-batches M] [--lr X] [--seed S] [--json FILE]',
  '   or: node examples/mesh-demo/src/main.ts [the same options]',
  '',
  'Starts three peers on 127.0.0.1 (lab, cloud, home) joined by emulated links of 200, 20 and',
  '10 Mbit/s, measures each link, places gpt2:tiny as three pipeline stages along the fastest chain',
  'and trains it on Moby Dick (1F1B micro-batches, AdamW): every activation and gradient at a stage',
  'boundary crosses the mesh, as fp16 on links under 100 Mbit/s. About half a minute on 2 cores.',
  '',
  'Options:',
  ...flagUsage(FLAGS),
].join('\n')

/** The demo's options, and where to write its summary (checked before the work that fills it). */
export function parseOptions(argv: string[]): { options: DemoOptions; json?: string } {
  const { values } = parseFlags(argv, flagSpec(FLAGS))
  const flags = readFlags(FLAGS, values)
  const { steps, lr, seed } = flags
  const [batchSize, microBatches] = [flags['batch-size'], flags['micro-batches']]
  if (batchSize % microBatches !== 0)
    throw new UsageError(`--micro-batches ${microBatches} must divide --batch-size ${batchSize}`)
  const options = { steps, batchSize, microBatches, lr, seed, logEvery: flags['log-every'] }
  return { options, json: outputFlag('json', flags.json) }
}
