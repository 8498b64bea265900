import { UsageError } from './errors.ts'

/** Bounds a numeric flag must keep. */
export interface NumberRange {
  min?: number
  max?: number
  integer?: boolean
}

/** A count of things (steps, samples, threads): an integer ≥ 1. */
export const COUNT: NumberRange = { min: 1, integer: true }

/** A numeric flag within `range`, or undefined when absent. */
export function numberFlag(
  name: string,
  value: string | undefined,
  range: NumberRange = {},
): number | undefined {
  return value === undefined ? undefined : checkedNumber(name, value, range)
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
  if (!(allowed as readonly string[]).includes(value)) {
    const choices = `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`
    throw new UsageError(`--${name} must be ${allowed.length > 1 ? choices : allowed[0]}, got '${value}'`)
  }
  return value as T
}

/** A flag that may be absent, else one of `allowed`. */
export function choiceOrUndefined<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  return value === undefined ? undefined : choiceFlag(name, value, allowed)
}

/** A flag that must be given; `placeholder` shows what it takes (`--steps N is required`). */
export function required<T>(name: string, value: T | undefined, placeholder?: string): T {
  if (value === undefined)
    throw new UsageError(`--${name}${placeholder ? ` ${placeholder}` : ''} is required`)
  return value
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
