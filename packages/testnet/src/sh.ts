import { spawnSync } from 'node:child_process'
import { parseJson, parseWith } from '@atoll/core'
import type * as z from 'zod/mini'
import { CommandFailedError, NotRootError, ToolOutputError } from './errors.ts'

export interface Ran {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs a command to completion; never throws, for probes whose failure is an answer. */
export function tryRun(argv: string[], input?: string): Ran {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 })
  if (r.error) return { status: null, stdout: '', stderr: r.error.message }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Runs a command and returns its stdout; a non-zero exit is a CommandFailedError with its stderr. */
export function run(argv: string[], input?: string): string {
  const r = tryRun(argv, input)
  if (r.status !== 0) throw new CommandFailedError(argv, r.status, r.stderr)
  return r.stdout
}

/** A command's JSON output parsed with `schema`; anything else is a ToolOutputError naming the field. */
export function parseOutput<T>(argv: string[], stdout: string, schema: z.ZodMiniType<T>): T {
  const what = `the output of '${argv.join(' ')}'`
  const raw = parseJson(stdout, what, ToolOutputError)
  return parseWith(schema, raw, (problem) => new ToolOutputError(`${what}: ${problem.message}`))
}

export function isRoot(): boolean {
  return process.getuid?.() === 0
}

export function requireRoot(what?: string): void {
  if (!isRoot()) throw new NotRootError(what)
}
