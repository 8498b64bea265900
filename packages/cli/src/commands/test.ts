import { spawn } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { globSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { COUNT, flagValue, parseFlags } from '@atoll/flags'
import type { Command } from '../command.ts'

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url))
const testGlobs = ['packages/*/test/**/*.test.ts', 'tests/**/*.test.ts']

/** The test files of the workspace, optionally narrowed to paths containing one of `filters`. */
export function testFiles(filters: string[] = []): string[] {
  const files = testGlobs.flatMap((g) => globSync(g, { cwd: repoRoot })).sort()
  return filters.length === 0 ? files : files.filter((f) => filters.some((p) => f.includes(p)))
}

export const test: Command = {
  name: 'test',
  summary: "run the whole test suite (Node's test runner)",
  usage: [
    'Usage: atoll test [FILTER…] [--concurrency N]',
    '',
    'Runs every package test (packages/*/test/*.test.ts) and every cross-package test (tests/).',
    'FILTER keeps only the files whose path contains it.',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseFlags(args, { concurrency: { type: 'string' } }, true)
    const files = testFiles(positionals)
    if (files.length === 0) {
      console.error(`atoll test: no test files match ${positionals.join(', ') || 'the workspace'}`)
      return 1
    }
    const concurrency =
      flagValue('concurrency', values.concurrency, COUNT) ?? Math.max(2, availableParallelism())
    const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], {
      cwd: repoRoot,
      stdio: 'inherit',
    })
    return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))))
  },
}
