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
import { writeFileSync } from 'node:fs'
import { numberOr, parseFlags, UsageError } from 'atoll/flags'
import { runDemo } from './job.ts'

export const USAGE =
  'Usage: atoll demo [--steps N] [--batch-size B] [--micro-batches M] [--lr X] [--seed S] [--json FILE]\n(atoll demo --help explains each)'

const flags = {
  steps: { type: 'string' },
  'batch-size': { type: 'string' },
  'micro-batches': { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  'log-every': { type: 'string' },
  json: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

async function main(argv: string[]): Promise<number> {
  try {
    const { values } = parseFlags(argv, flags)
    if (values.help) {
      console.log(USAGE)
      return 0
    }
    const integer = (name: string, v: string | undefined, fallback: number) =>
      numberOr(name, v, fallback, { min: 1, integer: true })
    const batchSize = integer('batch-size', values['batch-size'], 16)
    const microBatches = integer('micro-batches', values['micro-batches'], 2)
    if (batchSize % microBatches !== 0)
      throw new UsageError(`--micro-batches ${microBatches} must divide --batch-size ${batchSize}`)
    const summary = await runDemo(
      {
        steps: integer('steps', values.steps, 150),
        batchSize,
        microBatches,
        lr: numberOr('lr', values.lr, 3e-3, { min: 0 }),
        seed: numberOr('seed', values.seed, 0, { min: 0, integer: true }),
        logEvery: integer('log-every', values['log-every'], 10),
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
    if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(summary, null, 1)}\n`)
    return 0
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    console.error(`${err.message}\n\n${USAGE}`)
    return 2
  }
}

process.exitCode = await main(process.argv.slice(2))
