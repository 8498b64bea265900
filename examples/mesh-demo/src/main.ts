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
import { runProgram, writeJsonOutput } from '@atoll/flags'
import { runDemo } from './job.ts'
import { parseOptions, USAGE } from './options.ts'

async function main(argv: string[]): Promise<number> {
  const { options, json } = parseOptions(argv)
  const summary = await runDemo(options, (line) => console.error(line))
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
