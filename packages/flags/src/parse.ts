import { parseArgs } from 'node:util'
import { UsageError } from './errors.ts'

/** What `parseArgs` accepts for one flag. */
export type FlagSpec = Record<
  string,
  { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean }
>

/**
 * Parses flags strictly: an unknown flag or a missing value is a UsageError naming it, so a typo
 * never silently falls back to a default. Everything after `--` is a positional.
 */
export function parseFlags<T extends FlagSpec>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

/** Flags that take one value each, by name. */
export function valueFlags<K extends string>(...names: K[]): Record<K, { type: 'string' }> {
  return Object.fromEntries(names.map((n) => [n, { type: 'string' }])) as Record<K, { type: 'string' }>
}

/** A program's own arguments, and the command line it was given after the first `--`. */
export interface CommandLine {
  own: string[]
  /** everything after the first `--`, untouched; undefined without a `--` */
  passed?: string[]
}

/**
 * Splits `args` at the first `--`: the words after it belong to the command being passed on
 * (`atoll testnet exec P -- ls --help`), never to the program, whatever flags they look like.
 */
export function splitCommandLine(args: readonly string[]): CommandLine {
  const dash = args.indexOf('--')
  return dash < 0 ? { own: [...args] } : { own: args.slice(0, dash), passed: args.slice(dash + 1) }
}

/** Whether `-h` or `--help` is among the program's own arguments (not after `--`). */
export function asksForHelp(args: readonly string[]): boolean {
  const { own } = splitCommandLine(args)
  return own.includes('--help') || own.includes('-h')
}
