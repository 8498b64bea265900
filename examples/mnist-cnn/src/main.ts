/**
 * Example: the zoo's small MNIST CNN trained in one process with Atoll's runtime, to ≥ 97% test
 * accuracy in a few seconds of CPU.
 *
 * @example
 * ```sh
 * node examples/mnist-cnn/src/main.ts                     # 10 epochs; progress on stderr, JSON summary on stdout
 * node examples/mnist-cnn/src/main.ts --steps 40 --log-every 10
 * ```
 */
import { runProgram } from '@atoll/flags'
import { trainMnist } from './job.ts'
import { parseOptions, USAGE } from './options.ts'

async function main(argv: string[]): Promise<number> {
  const summary = await trainMnist(parseOptions(argv), (line) => console.error(line))
  console.error(
    `test accuracy ${(100 * summary.testAccuracy).toFixed(2)}% on ${summary.testImages} images ` +
      `(loss ${summary.testLoss.toFixed(4)}); trained ${summary.steps} steps in ${summary.trainSeconds.toFixed(1)} s`,
  )
  console.log(JSON.stringify(summary))
  return 0
}

process.exitCode = await runProgram({ name: 'mnist-cnn', usage: USAGE, run: main }, process.argv.slice(2))
