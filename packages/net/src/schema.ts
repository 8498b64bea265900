/**
 * A small schema language for the ctrl RPC: every request and response is parsed against its schema
 * before use, so a peer's typo or malice becomes a SchemaError naming the path, never a crash later.
 * Objects keep only the declared keys (extra keys from newer peers are dropped, not trusted).
 */
import { SchemaError } from './errors.ts'

export interface Schema<T> {
  /** Returns the value, typed, or throws SchemaError naming the offending path. */
  parse(value: unknown, path?: string): T
  readonly describe: string
}

export type Infer<S> = S extends Schema<infer T> ? T : never

type Shape = Record<string, Schema<unknown>>
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: undefined extends Infer<S[K]> ? K : never
}[keyof S]
type ObjectOf<S extends Shape> = { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Infer<S[K]>
}

function fail(path: string, expected: string, value: unknown): never {
  const found = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value
  throw new SchemaError(`${path || 'value'}: expected ${expected}, found ${found}`)
}

function schema<T>(describe: string, parse: (value: unknown, path: string) => T): Schema<T> {
  return { describe, parse: (value, path = '') => parse(value, path) }
}

export function string(opts: { maxLength?: number } = {}): Schema<string> {
  const max = opts.maxLength ?? 4096
  return schema(`a string of at most ${max} characters`, (v, path) => {
    if (typeof v !== 'string' || v.length > max) fail(path, `a string of at most ${max} characters`, v)
    return v
  })
}

export function number(opts: { min?: number; max?: number; integer?: boolean } = {}): Schema<number> {
  const { min = -Infinity, max = Infinity, integer = false } = opts
  const describe = `${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`
  return schema(describe, (v, path) => {
    const ok = typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max
    if (!ok || (integer && !Number.isInteger(v))) fail(path, describe, v)
    return v as number
  })
}

export function boolean(): Schema<boolean> {
  return schema('a boolean', (v, path) => (typeof v === 'boolean' ? v : fail(path, 'a boolean', v)))
}

export function literal<T extends string | number | boolean>(expected: T): Schema<T> {
  return schema(JSON.stringify(expected), (v, path) =>
    v === expected ? (v as T) : fail(path, JSON.stringify(expected), v),
  )
}

export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return schema(`${inner.describe} or nothing`, (v, path) =>
    v === undefined ? undefined : inner.parse(v, path),
  )
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return schema(`${inner.describe} or null`, (v, path) => (v === null ? null : inner.parse(v, path)))
}

export function array<T>(item: Schema<T>, opts: { maxLength?: number } = {}): Schema<T[]> {
  const max = opts.maxLength ?? 10_000
  const describe = `an array of at most ${max} items`
  return schema(describe, (v, path) => {
    if (!Array.isArray(v) || v.length > max) fail(path, describe, v)
    return v.map((x, i) => item.parse(x, `${path}[${i}]`))
  })
}

export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  return schema('an object', (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'an object', v)
    const out: Record<string, unknown> = {}
    for (const [key, inner] of Object.entries(shape)) {
      const parsed = inner.parse((v as Record<string, unknown>)[key], path ? `${path}.${key}` : key)
      if (parsed !== undefined) out[key] = parsed
    }
    return out as ObjectOf<S>
  })
}

export function oneOf<T extends string>(...values: T[]): Schema<T> {
  const describe = `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`
  return schema(describe, (v, path) => (values.includes(v as T) ? (v as T) : fail(path, describe, v)))
}

/** A value accepted as is: only for payloads a handler validates itself. */
export function unknownValue(): Schema<unknown> {
  return schema('any value', (v) => v)
}
