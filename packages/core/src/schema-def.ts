/**
 * The parts of a zod/mini schema's definition that Atoll reads: zod keeps them in `_zod.def`, which
 * its types leave loose. The words of an error (schema-words.ts) and the fast acceptor
 * (schema-fast.ts) both derive from them; reading them here only means a zod upgrade that moves
 * them breaks one file (the pinned version and the tests say when).
 */
import type * as z from 'zod/mini'

/** A check attached with `.check(…)`: bounds, lengths, a pattern. */
export interface CheckDef {
  check: string
  value?: number | bigint
  inclusive?: boolean
  minimum?: number
  maximum?: number
  length?: number
  format?: string
  pattern?: RegExp
}

export interface SchemaDef {
  type: string
  format?: string
  coerce?: boolean
  checks?: { _zod: { def: CheckDef } }[]
  shape?: Record<string, z.ZodMiniType>
  catchall?: z.ZodMiniType
  innerType?: z.ZodMiniType
  element?: z.ZodMiniType
  values?: unknown[]
  entries?: Record<string, unknown>
}

export function defOf(schema: unknown): SchemaDef | undefined {
  return (schema as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def
}

export function checksOf(def: SchemaDef | undefined): CheckDef[] {
  return (def?.checks ?? []).map((c) => c._zod.def)
}
