/**
 * A flag's value is untrusted input like any other: a zod/mini schema over the flag's text, parsed by
 * core's parseWith, so a bad value reads like every other input error and names the flag:
 * `--steps: expected an integer ≥ 1, found "0"`.
 */
import { describeValue, parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import { UsageError } from './errors.ts'

/** A schema that takes a flag's text and gives its value. */
export type FlagSchema<T = unknown> = z.ZodMiniType<T, string>

/** The text as a number; a blank is NaN (`Number('')` is 0), which every number schema refuses. */
const asNumber = z.pipe(
  z.string(),
  z.transform((text: string) => (text.trim() === '' ? Number.NaN : Number(text))),
)

/** A numeric flag: its text as a number, then `schema`'s kind and bounds (`z.int().check(z.gte(1))`). */
export function numeric<S extends z.ZodMiniType<number, number>>(schema: S) {
  return z.pipe(asNumber, schema)
}

/** A count of things (steps, samples, threads): an integer ≥ 1. */
export const COUNT = numeric(z.int().check(z.gte(1)))

/**
 * The value of `--name`: undefined when absent, else `text` through `schema`, or a UsageError that
 * names the flag, says what was expected and shows what was typed.
 */
export function flagValue<S extends FlagSchema>(
  name: string,
  text: string | undefined,
  schema: S,
): z.output<S> | undefined {
  if (text === undefined) return undefined
  return parseWith(schema, text, (problem) => {
    // the whole value is shown as typed; an item of a list (`--betas[1]`) as it was read
    const found = problem.keys.length === 0 ? describeValue(text) : problem.found
    return new UsageError(`--${name}${problem.path}: expected ${problem.expected}, found ${found}`)
  })
}

/** A flag that must be given; `placeholder` shows what it takes (`--steps N is required`). */
export function required<T>(name: string, value: T | undefined, placeholder?: string): T {
  if (value === undefined)
    throw new UsageError(`--${name}${placeholder ? ` ${placeholder}` : ''} is required`)
  return value
}
