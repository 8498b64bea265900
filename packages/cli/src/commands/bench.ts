import type { BenchReport, BenchSuite } from '@atoll/bench'
import { outputFlag, parseFlags, UsageError, writeJsonOutput } from '@atoll/flags'
import type { Command } from '../command.ts'

const usage = [
  'Usage: atoll bench <suite> [--json FILE] [--quick]',
  '',
  'Runs a benchmark suite; prints a table and, with --json, writes',
  '{ "suite": NAME, "results": { figure: number }, … }. Every figure is a ratio against a baseline',
  'measured in the same run. `atoll bench` alone lists the suites.',
].join('\n')

/** The suites and what each measures, for `atoll bench` without a suite or with an unknown one. */
function suiteList(suites: readonly BenchSuite[]): string {
  return ['Suites:', ...suites.map((s) => `  ${s.name.padEnd(10)}  ${s.summary}`)].join('\n')
}

export const bench: Command = {
  name: 'bench',
  summary: 'run a benchmark suite and print its figures as JSON',
  usage,
  async run(args) {
    const { values, positionals } = parseFlags(
      args,
      { json: { type: 'string' }, quick: { type: 'boolean', default: false } },
      true,
    )
    // loaded here, not at the top: the suites pull in every package, which `atoll --help` does not need
    const { formatReport, suites } = await import('@atoll/bench')
    if (positionals.length !== 1) throw new UsageError(`name exactly one suite\n\n${suiteList(suites)}`)
    const suite = suites.find((s) => s.name === positionals[0])
    if (suite === undefined) throw new UsageError(`unknown suite '${positionals[0]}'\n\n${suiteList(suites)}`)
    const json = outputFlag('json', values.json)
    const report: BenchReport = await suite.run({
      quick: values.quick ?? false,
      log: (m) => console.error(m),
    })
    console.log(formatReport(report))
    if (json !== undefined) writeJsonOutput(json, report)
    return 0
  },
}
