import { accessSync, constants, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseJson } from '@atoll/core'
import { UsageError } from './errors.ts'

/**
 * An output path whose folder exists and is writable, checked before the work that fills it: a
 * benchmark or a training run that takes minutes must not fail only when it writes its result.
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

/** `value` as indented JSON in a file whose folder `outputFlag` checked before the work began. */
export function writeJsonOutput(path: string, value: unknown): void {
  try {
    writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`)
  } catch (err) {
    throw new UsageError(`cannot write '${path}': ${(err as Error).message}`)
  }
}

/**
 * The bytes of an input file, or a UsageError that names it as the command line does: a flag
 * (`--batch`) or a positional (`MODEL.onnx`).
 */
export function readInput(path: string, label: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path))
  } catch (err) {
    throw new UsageError(`${label}: cannot read '${path}': ${(err as Error).message}`)
  }
}

/** An input file as UTF-8 text. */
export function readTextInput(path: string, label: string): string {
  return new TextDecoder().decode(readInput(path, label))
}

/** An input file parsed as JSON; what it holds is for the caller's schema to check. */
export function readJsonInput(path: string, label: string): unknown {
  return parseJson(readTextInput(path, label), `${label}: '${path}'`, UsageError)
}
