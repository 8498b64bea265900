/**
 * @atoll/flags — the command line that `atoll` and the examples share: strict flag parsing whose
 * errors name the flag, numbers within a range, choices, input and output files, the `--` that
 * hands the rest of a command line on untouched, a program runner (usage on `--help`, exit 2 on a
 * UsageError), and the training flags of `atoll fit`, which the examples take too. It sits above
 * @atoll/runtime only for the types of what it builds (`OptimizerSpec`, `LrSchedule`): loading it
 * loads no backend.
 *
 * @example
 * ```ts
 * import { COUNT, numberOr, parseFlags, runProgram, stepProgress, TRAINING_FLAGS, trainingOptions } from '@atoll/flags'
 *
 * async function run(args: string[]): Promise<number> {
 *   const { values } = parseFlags(args, { ...TRAINING_FLAGS, epochs: { type: 'string' } })
 *   const epochs = numberOr('epochs', values.epochs, 10, COUNT) // --epochs 0: a UsageError
 *   const training = trainingOptions(values, { batchSize: 64, lr: 3e-3, optimizer: 'adamw', steps: epochs * 100 })
 *   const onStep = stepProgress(training.steps, 50, (p) => console.error(`step ${p.done} loss ${p.loss}`))
 *   // … await fit({ model, backend, batch, ...training, onStep }) with @atoll/runtime
 *   return 0
 * }
 * // `my-job --help` prints the usage; a UsageError prints it after the message, with exit code 2
 * process.exitCode = await runProgram({ name: 'my-job', usage: 'Usage: my-job [--epochs E] …', run }, process.argv.slice(2))
 * ```
 */
export { UsageError } from './errors.ts'
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
export { type Progress, type StepDone, stepProgress } from './progress.ts'
export {
  type OptimizerKind,
  type ScheduleKind,
  TRAINING_FLAGS,
  type TrainingDefaults,
  type TrainingFlag,
  type TrainingFlags,
  type TrainingOptions,
  type TrainingValues,
  trainingOptions,
} from './training.ts'
export { DEVICE_CHOICES, trainingUsage } from './training-usage.ts'
export {
  COUNT,
  choiceFlag,
  choiceOrUndefined,
  type NumberRange,
  numberFlag,
  numberOr,
  required,
} from './values.ts'
