/**
 * A program's flags as one table: for each flag, what usage shows (its argument and what it does),
 * the schema of its value and, if it has one, its default. What parseFlags takes, the type of the
 * values and the usage lines are all derived from the table, so they cannot drift apart.
 */
import type * as z from 'zod/mini'
import { type FlagSchema, flagValue } from './values.ts'

/** A flag that takes a value: `arg` names it in usage (`N`, `FILE`), `schema` checks it. */
export interface ValueFlag<S extends FlagSchema = FlagSchema> {
  arg: string
  /** one line, or several separated by newlines */
  what: string
  schema: S
  /** the value when the flag is absent, shown in usage as `(default …)` */
  default?: z.output<S>
}

/** A flag that is there or not (`--nesterov`). */
export interface Switch {
  what: string
}

export type FlagTable = Record<string, ValueFlag | Switch>

type ValueOf<F> = F extends { schema: infer S extends FlagSchema } ? z.output<S> : boolean
type Defaulted<T> = { [K in keyof T]: T[K] extends { default: unknown } ? K : never }[keyof T]

/** The flags' values: those with a default always there, the others undefined when absent. */
export type FlagValues<T extends FlagTable> = { [K in Defaulted<T>]: ValueOf<T[K]> } & {
  [K in Exclude<keyof T, Defaulted<T>>]?: ValueOf<T[K]>
}

/** What parseFlags takes for the table's flags. */
export type FlagSpecOf<T extends FlagTable> = {
  [K in keyof T]: T[K] extends ValueFlag ? { type: 'string' } : { type: 'boolean' }
}

const takesValue = (flag: ValueFlag | Switch): flag is ValueFlag => 'schema' in flag

export function flagSpec<T extends FlagTable>(table: T): FlagSpecOf<T> {
  const types = Object.entries(table).map(([name, flag]) => [
    name,
    { type: takesValue(flag) ? 'string' : 'boolean' },
  ])
  return Object.fromEntries(types) as FlagSpecOf<T>
}

/** The table's flags among `values` (from parseFlags), each through its schema, defaults filled in. */
export function readFlags<T extends FlagTable>(
  table: T,
  values: Readonly<Record<string, string | boolean | undefined>>,
): FlagValues<T> {
  const read: Record<string, unknown> = {}
  for (const [name, flag] of Object.entries(table)) {
    const value = values[name]
    if (!takesValue(flag)) read[name] = value
    else read[name] = flagValue(name, value as string | undefined, flag.schema) ?? flag.default
  }
  return read as FlagValues<T>
}

/** The left column of a flag's usage line: `--steps N`, `--nesterov`. */
function synopsis(name: string, flag: ValueFlag | Switch): string {
  return takesValue(flag) ? `--${name} ${flag.arg}` : `--${name}`
}

/** Where the descriptions of `tables` start, so that programs print several aligned. */
export function usageColumn(...tables: FlagTable[]): number {
  const names = tables.flatMap((table) => Object.entries(table).map(([name, flag]) => synopsis(name, flag)))
  return Math.max(...names.map((name) => name.length)) + 2
}

/**
 * One usage line per flag (more where its description has several), each ending with its remark in
 * parentheses, else its default: `  --steps N     optimizer steps (default 150)`.
 */
export function flagUsage<T extends FlagTable>(
  table: T,
  remarks: Partial<Record<keyof T, string>> = {},
  column = usageColumn(table),
): string[] {
  return Object.entries(table).flatMap(([name, flag]) => {
    const fallback =
      takesValue(flag) && flag.default !== undefined ? `default ${shown(flag.default)}` : undefined
    const remark = remarks[name] ?? fallback
    const [first, ...more] = `${flag.what}${remark === undefined ? '' : ` (${remark})`}`.split('\n')
    return [
      `  ${synopsis(name, flag).padEnd(column)}${first}`,
      ...more.map((line) => `  ${' '.repeat(column)}${line}`),
    ]
  })
}

/** A default as usage shows it: text with spaces in quotes, so where it ends is clear. */
function shown(value: unknown): string {
  return typeof value === 'string' && /\s/.test(value) ? JSON.stringify(value) : String(value)
}
