/**
 * `atoll demo`: three peers on this machine joined by emulated slow links, training a small GPT as
 * a pipeline whose activations and gradients cross the mesh.
 *
 * @example
 * ```sh
 * ./atoll demo                       # 150 steps, about half a minute on 2 cores (`./atoll demo --help`)
 * node examples/mesh-demo/src/main.ts --steps 30 --json summary.json
 * ```
 */
import {
  COUNT,
  numberOr,
  outputFlag,
  parseFlags,
  runProgram,
  UsageError,
  valueFlags,
  writeJsonOutput,
} from '@atoll/flags'
import { runDemo } from './job.ts'

export const USAGE =
  'Usage: atoll demo [--steps N] [--batch-size B] [--micro-batches M] [--lr X] [--seed S] [--json FILE]\n(atoll demo --help explains each)'

const FLAGS = valueFlags('steps', 'batch-size', 'micro-batches', 'lr', 'seed', 'log-every', 'json')

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, FLAGS)
  const count = (name: keyof typeof FLAGS, fallback: number) => numberOr(name, values[name], fallback, COUNT)
  const batchSize = count('batch-size', 16)
  const microBatches = count('micro-batches', 2)
  if (batchSize % microBatches !== 0)
    throw new UsageError(`--micro-batches ${microBatches} must divide --batch-size ${batchSize}`)
  const json = outputFlag('json', values.json)
  const summary = await runDemo(
    {
      steps: count('steps', 150),
      batchSize,
      microBatches,
      lr: numberOr('lr', values.lr, 3e-3, { min: 0 }),
      seed: numberOr('seed', values.seed, 0, { min: 0, integer: true }),
      logEvery: count('log-every', 10),
    },
    (line) => console.error(line),
  )
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`
  console.error(
    `\ntraining loss ${summary.firstLoss.toFixed(3)} → ${summary.lastLoss.toFixed(3)}, held-out ` +
      `${summary.heldOutLossBefore.toFixed(3)} → ${summary.heldOutLossAfter.toFixed(3)} nats/byte; ` +
      `${summary.tokensPerSecond.toFixed(0)} tokens/s, ${summary.transferSeconds.toFixed(1)} of ` +
      `${summary.trainSeconds.toFixed(1)} s on the links\n` +
      `crossed: ${Object.entries(summary.linkBytes)
        .map(([l, b]) => `${l} ${mb(b)}`)
        .join(', ')}`,
  )
  if (json !== undefined) writeJsonOutput(json, summary)
  return 0
}

process.exitCode = await runProgram({ name: 'atoll demo', usage: USAGE, run: main }, process.argv.slice(2))
