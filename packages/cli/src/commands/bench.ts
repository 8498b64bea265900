import { writeFileSync } from 'node:fs'
import { type BenchReport, formatReport, suites } from '@atoll/bench'
import { type Command, UsageError } from '../command.ts'
import { outputFlag, parseFlags } from '../flags.ts'

function usage(): string {
  return [
    'Usage: atoll bench <suite> [--json FILE] [--quick]',
    '',
    'Runs a benchmark suite; prints a table and, with --json, writes',
    '{ "suite": NAME, "results": { figure: number }, … }. Every figure is a ratio against a baseline',
    'measured in the same run.',
    '',
    'Suites:',
    ...suites.map((s) => `  ${s.name.padEnd(10)}  ${s.summary}`),
  ].join('\n')
}

export const bench: Command = {
  name: 'bench',
  summary: 'run a benchmark suite and print its figures as JSON',
  get usage() {
    return usage()
  },
  async run(args) {
    const { values, positionals } = parseFlags(
      args,
      { json: { type: 'string' }, quick: { type: 'boolean', default: false } },
      true,
    )
    if (positionals.length !== 1) throw new UsageError('name exactly one suite')
    const suite = suites.find((s) => s.name === positionals[0])
    if (suite === undefined) throw new UsageError(`unknown suite '${positionals[0]}'`)
    const json = outputFlag('json', values.json)
    const report: BenchReport = await suite.run({
      quick: values.quick ?? false,
      log: (m) => console.error(m),
    })
    console.log(formatReport(report))
    if (json !== undefined) writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`)
    return 0
  },
}
