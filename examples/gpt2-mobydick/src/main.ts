/**
 * Example: a small GPT-2 from Atoll's zoo trained in one process on Moby Dick (bytes or GPT-2 BPE
 * tokens) with the runtime's `fit`, scored on the held-out tenth, then sampled.
 *
 * @example
 * ```sh
 * node examples/gpt2-mobydick/src/main.ts                       # gpt2:tiny on bytes, 600 steps
 * node examples/gpt2-mobydick/src/main.ts --size mini --steps 2000 --prompt "The whale"
 * ```
 */
import { runProgram } from '@atoll/flags'
import { trainGpt } from './job.ts'
import { parseOptions, USAGE } from './options.ts'

async function main(argv: string[]): Promise<number> {
  const summary = await trainGpt(parseOptions(argv), (line) => console.error(line))
  console.error(
    `held-out loss ${summary.heldOutLossBefore.toFixed(4)} → ${summary.heldOutLossAfter.toFixed(4)} ` +
      `(next-token accuracy ${(100 * summary.heldOutAccuracy).toFixed(1)}%); ` +
      `${summary.steps} steps in ${summary.trainSeconds.toFixed(1)} s`,
  )
  if (summary.sample !== undefined) console.error(`\n--- sample ---\n${summary.sample}\n--------------`)
  console.log(JSON.stringify(summary))
  return 0
}

process.exitCode = await runProgram({ name: 'gpt2-mobydick', usage: USAGE, run: main }, process.argv.slice(2))
