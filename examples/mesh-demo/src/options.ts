/**
 * The demo's flags and its usage: one table, which `atoll demo --help` shows too (the CLI runs this
 * example), so the defaults it prints are the ones it runs with.
 */
import { resolve } from 'node:path'
import { COUNT, flagSpec, flagUsage, numeric, parseFlags, readFlags, UsageError } from '@atoll/flags'
import * as z from 'zod/mini'

export interface DemoOptions {
  /** where summary.json, report.html, log.jsonl, job.json, the checkpoint and the peers' logs go */
  out: string
  steps: number
  batchSize: number
  microBatches: number
  lr: number
  seed: number
  evalEvery: number
  probeSeconds: number
  logEvery: number
}

const FLAGS = {
  out: {
    arg: 'DIR',
    what: 'summary.json, report.html, log.jsonl, the job file, checkpoint and peer logs',
    schema: z.string().check(z.minLength(1)),
    default: 'atoll-demo',
  },
  steps: { arg: 'N', what: 'optimizer steps', schema: COUNT, default: 200 },
  'batch-size': { arg: 'B', what: 'sequences of 32 bytes per step', schema: COUNT, default: 16 },
  'micro-batches': {
    arg: 'M',
    what: 'micro-batches per step (1F1B); must divide B',
    schema: COUNT,
    default: 2,
  },
  lr: {
    arg: 'X',
    what: 'peak learning rate of the cosine schedule',
    schema: numeric(z.number().check(z.gte(0))),
    default: 3e-3,
  },
  seed: { arg: 'S', what: 'weights and data order', schema: numeric(z.int().check(z.gte(0))), default: 0 },
  'eval-every': {
    arg: 'K',
    what: 'held-out loss every K steps, and at the end',
    schema: COUNT,
    default: 50,
  },
  'probe-seconds': {
    arg: 'S',
    what: "each link probe's time budget",
    schema: numeric(z.number().check(z.gt(0), z.lte(10))),
    default: 0.3,
  },
  'log-every': { arg: 'K', what: 'a progress line kept every K steps', schema: COUNT, default: 25 },
}

export const USAGE = [
  'Usage: atoll demo [--out DIR] [--steps N] [--batch-size B] [--micro-batches M] [--lr X] [--seed S]',
  '   or: node examples/mesh-demo/src/main.ts [the same options]',
  '',
  'Starts four `atoll peer` processes on 127.0.0.1 in two sites, a (a1, a2) and b (b1, b2): 1 Gbit/s',
  'inside a site, 20 Mbit/s and 10 ms one way between them, emulated by the daemons. Then it trains',
  "gpt2:tiny on Moby Dick over them as a job, from this process as the job's coordinator: OP-Fence",
  'finds the two sites from the probed links and cuts the model into one stage per peer, crossing',
  'the slow link once; AdaTopK compresses what crosses it. Prints the plan and the steps as they go,',
  'and writes OUT/summary.json and OUT/report.html (loss curve, placement, bytes per link, predicted',
  'vs measured step time). Ctrl-C stops after the step in hand; every peer it started is stopped.',
  '',
  'Options:',
  ...flagUsage(FLAGS),
].join('\n')

/** The demo's options, checked before any peer starts. */
export function parseOptions(argv: string[]): DemoOptions {
  const { values } = parseFlags(argv, flagSpec(FLAGS))
  const flags = readFlags(FLAGS, values)
  const [batchSize, microBatches] = [flags['batch-size'], flags['micro-batches']]
  if (batchSize % microBatches !== 0)
    throw new UsageError(`--micro-batches ${microBatches} must divide --batch-size ${batchSize}`)
  return {
    out: resolve(flags.out),
    steps: flags.steps,
    batchSize,
    microBatches,
    lr: flags.lr,
    seed: flags.seed,
    evalEvery: flags['eval-every'],
    probeSeconds: flags['probe-seconds'],
    logEvery: flags['log-every'],
  }
}
