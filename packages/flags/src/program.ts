import { UsageError } from './errors.ts'
import { asksForHelp } from './parse.ts'

/** A command-line program: how it is named in messages, its usage text, and what it does. */
export interface Program {
  name: string
  /**
   * The usage text, or what makes it when it is shown: a usage that lists what a heavy module offers
   * (the runtime's backends) loads it only for `--help` or a mistake, not on every run.
   */
  usage: string | (() => Promise<string>)
  run(args: string[]): Promise<number>
}

function usageOf(program: Program): Promise<string> {
  return typeof program.usage === 'string' ? Promise.resolve(program.usage) : program.usage()
}

/**
 * Runs `program` on `args` and returns the exit code: its usage for `--help` or `-h` (0), the
 * message and the usage for a UsageError (2), the error's name and message for any other (1; the
 * stack too with ATOLL_DEBUG set). Words after `--` are the program's to pass on, never help.
 */
export async function runProgram(program: Program, args: string[]): Promise<number> {
  if (asksForHelp(args)) {
    console.log(await usageOf(program))
    return 0
  }
  try {
    return await program.run(args)
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err))
    console.error(`${program.name}: ${e.name}: ${e.message}`)
    if (err instanceof UsageError) {
      console.error(`\n${await usageOf(program)}`)
      return 2
    }
    if (process.env.ATOLL_DEBUG) console.error(e.stack)
    return 1
  }
}
