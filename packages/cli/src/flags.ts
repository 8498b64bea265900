import { accessSync, constants, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { UsageError } from './command.ts'

export { UsageError }

type FlagSpec = Record<
  string,
  { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean }
>

/**
 * Parses flags strictly: an unknown flag or a missing value is a UsageError naming it, so a typo
 * never silently falls back to a default.
 */
export function parseFlags<T extends FlagSpec>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

/** Bounds a numeric flag must keep. */
export interface NumberRange {
  min?: number
  max?: number
  integer?: boolean
}

/** A flag that must be a finite number within [min, max]. */
export function numberFlag(
  name: string,
  value: string | undefined,
  min = -Infinity,
  max = Infinity,
): number | undefined {
  return value === undefined ? undefined : checkedNumber(name, value, { min, max })
}

/** A numeric flag with a default: `fallback` when absent, else a number within `range`. */
export function numberOr(
  name: string,
  value: string | undefined,
  fallback: number,
  range: NumberRange,
): number {
  return value === undefined ? fallback : checkedNumber(name, value, range)
}

/** A flag that must be one of `allowed`. */
export function choiceFlag<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${value}'`)
  return value as T
}

function checkedNumber(name: string, value: string, range: NumberRange): number {
  const n = Number(value)
  const { min = -Infinity, max = Infinity, integer = false } = range
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `--${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got '${value}'`,
    )
  }
  return n
}

/**
 * An output path whose folder exists and is writable, checked before the work that fills it: a
 * benchmark or plan that runs for minutes must not fail only when it writes its result.
 */
export function outputFlag(name: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined
  const dir = dirname(path)
  try {
    if (!statSync(dir).isDirectory()) throw new Error(`'${dir}' is not a folder`)
    accessSync(dir, constants.W_OK)
  } catch (err) {
    throw new UsageError(`--${name}: cannot write '${path}': ${(err as Error).message}`)
  }
  return path
}
