/**
 * @atoll/flags — the command line that `atoll` and the examples share: strict flag parsing whose
 * errors name the flag, flag values checked by zod/mini schemas through core's parseWith, tables
 * from which a program's parse spec, values and usage all derive, input and output files, the `--`
 * that hands the rest of a command line on untouched, a program runner (usage on `--help`, exit 2 on
 * a UsageError), and the training flags of `atoll fit`, which the examples take too. It knows the
 * runtime's types only (`OptimizerSpec`, `LrSchedule`): loading it loads no backend, and the runtime's
 * checks are passed in.
 *
 * @example
 * ```ts
 * import { checkFitSettings, DEFAULT_BACKEND, nodeBackends, stepProgress } from '@atoll/runtime'
 * import * as z from 'zod/mini'
 * import { COUNT, deviceChoices, flagSpec, flagUsage, parseFlags, readFlags, runProgram, TRAINING_FLAGS, trainingOptions, trainingUsage } from '@atoll/flags'
 *
 * const OWN = { epochs: { arg: 'E', what: 'passes over the data', schema: COUNT, default: 10 } }
 * const usage = ['Usage: my-job [options]', ...flagUsage(OWN), ...trainingUsage({ batchSize: 64 }, deviceChoices(nodeBackends(), DEFAULT_BACKEND))]
 *
 * async function run(args: string[]): Promise<number> {
 *   const { values } = parseFlags(args, flagSpec({ ...TRAINING_FLAGS, ...OWN }))
 *   const { epochs } = readFlags(OWN, values) // --epochs 0: `--epochs: expected an integer ≥ 1, found "0"`
 *   const defaults = { batchSize: 64, lr: 3e-3, optimizer: 'adamw', steps: epochs * 100 } as const
 *   const training = trainingOptions(values, defaults, checkFitSettings) // --warmup 5 alone: `--warmup is not an option of --schedule constant`
 *   const onStep = stepProgress(training.steps, 50, (p) => console.error(`step ${p.done} loss ${p.loss}`))
 *   // … await fit({ model, backend, batch, ...training, onStep })
 *   return 0
 * }
 * // `my-job --help` prints the usage; a UsageError prints it after the message, with exit code 2
 * process.exitCode = await runProgram({ name: 'my-job', usage: usage.join('\n'), run }, process.argv.slice(2))
 * ```
 */
export { UsageError } from './errors.ts'
export { ONNX_IMPORT_FLAGS } from './model-import.ts'
export { outputFlag, readInput, readJsonInput, readTextInput, writeJsonOutput } from './files.ts'
export {
  asksForHelp,
  type CommandLine,
  type FlagSpec,
  parseFlags,
  splitCommandLine,
  valueFlags,
} from './parse.ts'
export { type Program, runProgram } from './program.ts'
export { flagSpec, flagUsage, readFlags } from './table.ts'
export { TRAINING_FLAGS, type TrainingDefaults, type TrainingOptions, trainingOptions } from './training.ts'
export { deviceChoices, trainingProgramUsage, trainingUsage } from './training-usage.ts'
export { COUNT, flagValue, numeric, required } from './values.ts'
