/**
 * A predicate built from a zod/mini schema's own definition, for bulk data. zod/mini interprets every
 * object it parses (it leaves out zod's compiled object parser to stay small): half a million
 * scheduler links took about 1.1 s against 0.09 s for a plain loop (measured on this repo's 2-core
 * machine). The predicate never accepts what zod would refuse: it covers plain objects, lists,
 * strings, numbers, booleans, literals, enums and unknowns with their bounds, and a schema using
 * anything else gets none, so zod parses it. Whatever a predicate refuses, zod parses again, to name
 * the problem (or to accept the rare value the predicate was stricter about).
 */
import type * as z from 'zod/mini'
import { checksOf, defOf, type SchemaDef } from './schema-def.ts'

export type Accept = (value: unknown) => boolean

const cache = new WeakMap<object, Accept | null>()

/** The schema's acceptor, or undefined when it uses something the acceptor does not cover. */
export function acceptorOf(schema: z.ZodMiniType): Accept | undefined {
  let accept = cache.get(schema)
  if (accept === undefined) {
    accept = build(defOf(schema) ?? { type: 'unknown schema' }) ?? null
    cache.set(schema, accept)
  }
  return accept ?? undefined
}

function build(def: SchemaDef): Accept | undefined {
  if (def.coerce) return undefined
  const bounds = boundsOf(def)
  if (bounds === undefined) return undefined
  switch (def.type) {
    case 'string':
      return (v) => typeof v === 'string' && bounds(v)
    case 'number':
      if (def.format !== undefined && def.format !== 'safeint') return undefined
      return def.format === 'safeint'
        ? (v) => Number.isSafeInteger(v) && bounds(v)
        : (v) => typeof v === 'number' && Number.isFinite(v) && bounds(v)
    case 'boolean':
      return (v) => typeof v === 'boolean'
    case 'unknown':
      // a missing key is an error in a zod object; refusing undefined is the safe side of that
      return (v) => v !== undefined
    case 'literal':
      return (v) => def.values?.includes(v) === true
    case 'enum': {
      const values = Object.values(def.entries ?? {})
      return (v) => values.includes(v)
    }
    case 'optional': {
      const inner = def.innerType && acceptorOf(def.innerType)
      return inner && ((v) => v === undefined || inner(v))
    }
    case 'array': {
      const item = def.element && acceptorOf(def.element)
      return item && ((v) => Array.isArray(v) && bounds(v) && all(v, item))
    }
    case 'object':
      return objectAcceptor(def)
    default:
      return undefined
  }
}

/** Plain objects whose declared fields are accepted; a strict object also refuses other keys. */
function objectAcceptor(def: SchemaDef): Accept | undefined {
  const strict = def.catchall !== undefined && defOf(def.catchall)?.type === 'never'
  if (def.catchall !== undefined && !strict) return undefined
  const shape = def.shape ?? {}
  const keys = Object.keys(shape)
  const accepts: Accept[] = []
  for (const key of keys) {
    const accept = acceptorOf(shape[key])
    if (accept === undefined) return undefined
    accepts.push(accept)
  }
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
    const o = v as Record<string, unknown>
    for (let i = 0; i < keys.length; i++) if (!accepts[i](o[keys[i]])) return false
    return !strict || Object.keys(o).every((key) => Object.hasOwn(shape, key))
  }
}

/** The schema's checks as one predicate; undefined if one of them is of a kind not covered. */
function boundsOf(def: SchemaDef): Accept | undefined {
  type Sized = { length: number }
  const tests: Accept[] = []
  for (const c of checksOf(def)) {
    const limit = c.value ?? 0
    if (c.check === 'greater_than')
      tests.push(c.inclusive ? (v) => (v as number) >= limit : (v) => (v as number) > limit)
    else if (c.check === 'less_than')
      tests.push(c.inclusive ? (v) => (v as number) <= limit : (v) => (v as number) < limit)
    else if (c.check === 'min_length') tests.push((v) => (v as Sized).length >= (c.minimum ?? 0))
    else if (c.check === 'max_length') tests.push((v) => (v as Sized).length <= (c.maximum ?? 0))
    else if (c.check === 'length_equals') tests.push((v) => (v as Sized).length === c.length)
    else if (c.check === 'string_format' && c.format === 'regex' && c.pattern && !c.pattern.global) {
      const pattern = c.pattern
      tests.push((v) => pattern.test(v as string))
    } else return undefined
  }
  if (tests.length <= 1) return tests[0] ?? (() => true)
  return (v) => tests.every((test) => test(v))
}

/** `items.every(accept)`, without a callback frame per item (it runs half a million times). */
function all(items: unknown[], accept: Accept): boolean {
  for (let i = 0; i < items.length; i++) if (!accept(items[i])) return false
  return true
}
