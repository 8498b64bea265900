/**
 * The `atoll` command: argument parsing and wiring only; the logic lives in the packages below.
 *
 * @example
 * ```ts
 * import { run } from 'atoll'
 * process.exitCode = await run(['bench', 'compress', '--json', 'out.json'])
 * ```
 */
import { readFileSync } from 'node:fs'
import { runProgram } from '@atoll/flags'
import { commands } from './commands/index.ts'

export type { Command } from './command.ts'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string
}

export function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length))
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)
  return [
    'atoll — decentralized, geo-distributed training',
    '',
    'Usage: atoll <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Options:',
    '  -h, --help     show help (atoll <command> --help for a command)',
    '  -v, --version  print the version',
  ].join('\n')
}

/** Runs the command line `args` (without node and script) and returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const [first, ...rest] = args
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    console.log(helpText())
    return first === undefined ? 2 : 0
  }
  if (first === '-v' || first === '--version') {
    console.log(pkg.version)
    return 0
  }
  const command = commands.find((c) => c.name === first)
  if (command === undefined) {
    console.error(`atoll: unknown command '${first}'\n\n${helpText()}`)
    return 2
  }
  // the command's name in its messages: `atoll fit: UsageError: --steps N is required`
  return runProgram({ name: `atoll ${command.name}`, usage: command.usage, run: (a) => command.run(a) }, rest)
}
