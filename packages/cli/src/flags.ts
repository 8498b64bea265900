import { accessSync, constants, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { UsageError } from './command.ts'

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

/** A flag that must be a finite number within [min, max]. */
export function numberFlag(
  name: string,
  value: string | undefined,
  min = -Infinity,
  max = Infinity,
): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a number in [${min}, ${max}], got '${value}'`)
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
