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
import { trainGpt } from './job.ts'
import { parseOptions, USAGE, UsageError } from './options.ts'

async function main(argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseOptions>
  try {
    options = parseOptions(argv)
    if (options === undefined) {
      console.log(USAGE)
      return 0
    }
    const summary = await trainGpt(options, (line) => console.error(line))
    console.error(
      `held-out loss ${summary.heldOutLossBefore.toFixed(4)} → ${summary.heldOutLossAfter.toFixed(4)} ` +
        `(next-token accuracy ${(100 * summary.heldOutAccuracy).toFixed(1)}%); ` +
        `${summary.steps} steps in ${summary.trainSeconds.toFixed(1)} s`,
    )
    if (summary.sample !== undefined) console.error(`\n--- sample ---\n${summary.sample}\n--------------`)
    console.log(JSON.stringify(summary))
    return 0
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    console.error(`${err.name}: ${err.message}\n\n${USAGE}`)
    return 2
  }
}

process.exitCode = await main(process.argv.slice(2))
