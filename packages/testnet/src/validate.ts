import { TopologyError } from './errors.ts'

/** A plain object read from YAML or JSON, before its fields are checked. */
export type Fields = Record<string, unknown>

function describe(v: unknown): string {
  if (v === undefined) return 'nothing'
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`
  if (typeof v === 'object') return 'an object'
  return `${typeof v} ${String(v)}`
}

export function object(v: unknown, path: string): Fields {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new TopologyError(path, `expected an object, got ${describe(v)}`)
  }
  return v as Fields
}

export function list(v: unknown, path: string, min: number): unknown[] {
  if (!Array.isArray(v)) throw new TopologyError(path, `expected a list, got ${describe(v)}`)
  if (v.length < min) throw new TopologyError(path, `expected at least ${min} entries, got ${v.length}`)
  return v
}

export function text(v: unknown, path: string, pattern: RegExp): string {
  if (typeof v !== 'string' || !pattern.test(v)) {
    throw new TopologyError(path, `expected a name matching ${pattern.source}, got ${describe(v)}`)
  }
  return v
}

/** A rate in Mbit/s: a positive finite number up to `max`. */
export function rate(v: unknown, path: string, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) {
    throw new TopologyError(path, `expected a rate in Mbit/s in (0, ${max}], got ${describe(v)}`)
  }
  return v
}

export function optionalRate(v: unknown, path: string, max: number): number | undefined {
  return v === undefined ? undefined : rate(v, path, max)
}

/** An optional field checked by `ok`; `expected` says what was wanted. */
export function field(v: unknown, path: string, ok: (v: unknown) => boolean, expected: string): unknown {
  if (v === undefined) return undefined
  if (!ok(v)) throw new TopologyError(path, `expected ${expected}, got ${describe(v)}`)
  return v
}

/** Rejects keys other than `known`, so that a misspelt key is an error rather than a silent default. */
export function finish(o: Fields, path: string, known: string[]): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      const where = path === '' ? key : `${path}.${key}`
      throw new TopologyError(where, `unknown field (expected one of ${known.join(', ')})`)
    }
  }
}
