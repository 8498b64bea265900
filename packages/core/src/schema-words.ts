/**
 * zod's issues in words for people: `a number > 0`, `an integer in [1, 256]`, `one of "cpu", "cuda"`.
 * A schema's whole expectation is given (its kind with every bound), whichever bound failed, so
 * `"lots"` for a byte count reads `expected a number > 0`, not just `expected a number`.
 */
import type * as z from 'zod/mini'

/**
 * The parts of a schema's definition the words are made of. zod keeps them in `_zod.def`, which its
 * types leave loose; they are read only here, so a zod upgrade that moves them breaks this one file
 * (the pinned version and schema.test.ts's messages say when).
 */
interface SchemaDef {
  type: string
  format?: string
  checks?: { _zod: { def: CheckDef } }[]
  shape?: Record<string, unknown>
}

/** A check attached with `.check(…)`: bounds, lengths, a pattern. */
interface CheckDef {
  check: string
  value?: number | bigint
  inclusive?: boolean
  minimum?: number
  maximum?: number
  length?: number
  format?: string
  pattern?: RegExp
}

function defOf(schema: unknown): SchemaDef | undefined {
  return (schema as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def
}

function checksOf(def: SchemaDef | undefined): CheckDef[] {
  return (def?.checks ?? []).map((c) => c._zod.def)
}

const KINDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  bigint: 'a bigint',
  array: 'a list',
  object: 'an object',
  record: 'an object',
  tuple: 'a list',
  null: 'null',
  undefined: 'nothing',
  never: 'no value',
  nonoptional: 'a value',
}

/** zod's error map: each issue's message becomes what was expected. */
export function expectation(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return describeSchema(issue.inst) ?? KINDS[issue.expected] ?? `a ${issue.expected}`
    case 'too_small':
      return describeSchema(issue.schema) ?? `${issue.origin} ${issue.inclusive ? '≥' : '>'} ${issue.minimum}`
    case 'too_big':
      return describeSchema(issue.schema) ?? `${issue.origin} ${issue.inclusive ? '≤' : '<'} ${issue.maximum}`
    case 'invalid_value':
      return oneOf(issue.values)
    case 'invalid_format':
      return describeSchema(issue.schema) ?? `a ${issue.format}`
    case 'not_multiple_of':
      return `a multiple of ${issue.divisor}`
    case 'unrecognized_keys': {
      const known = Object.keys(defOf(issue.inst)?.shape ?? {})
      return known.length === 0 ? 'no fields' : `one of the fields ${known.join(', ')}`
    }
    case 'invalid_union':
      if (Array.isArray(issue.options)) return oneOf(issue.options)
      return [...new Set(issue.errors.map((alternative) => alternative[0]?.message))].join(' or ')
    case 'invalid_key':
      return `keys that are ${issue.issues[0]?.message ?? 'valid'}`
    case 'invalid_element':
      return `items that are ${issue.issues[0]?.message ?? 'valid'}`
    default:
      return 'a valid value'
  }
}

/** A number, string or list schema with its bounds in words; undefined for other kinds. */
function describeSchema(schema: unknown): string | undefined {
  const def = defOf(schema)
  const checks = checksOf(def)
  switch (def?.type) {
    case 'number':
      // zod refuses NaN and ±Infinity for every number: saying so tells a user why 1e999 failed
      return `${def.format?.includes('int') ? 'an integer' : 'a finite number'}${range(checks)}`
    case 'string':
      return `a string${lengths(checks, 'character')}${pattern(checks)}`
    case 'array':
      return `a list${lengths(checks, 'item')}`
    default:
      return undefined
  }
}

function range(checks: CheckDef[]): string {
  const low = checks.find((c) => c.check === 'greater_than')
  const high = checks.find((c) => c.check === 'less_than')
  if (low && high) {
    return ` in ${low.inclusive ? '[' : '('}${low.value}, ${high.value}${high.inclusive ? ']' : ')'}`
  }
  if (low) return ` ${low.inclusive ? '≥' : '>'} ${low.value}`
  if (high) return ` ${high.inclusive ? '≤' : '<'} ${high.value}`
  return ''
}

function lengths(checks: CheckDef[], unit: string): string {
  const count = (n = 0) => `${n} ${unit}${n === 1 ? '' : 's'}`
  const exact = checks.find((c) => c.check === 'length_equals')
  const min = checks.find((c) => c.check === 'min_length')
  const max = checks.find((c) => c.check === 'max_length')
  if (exact) return ` of ${count(exact.length)}`
  if (min && max) return ` of ${min.minimum} to ${count(max.maximum)}`
  if (min) return ` of at least ${count(min.minimum)}`
  if (max) return ` of at most ${count(max.maximum)}`
  return ''
}

function pattern(checks: CheckDef[]): string {
  const regex = checks.find((c) => c.check === 'string_format' && c.format === 'regex')
  return regex ? ` matching ${regex.pattern}` : ''
}

function oneOf(values: readonly unknown[]): string {
  const shown = values.map((v) => (typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)))
  return shown.length === 1 ? shown[0] : `one of ${shown.join(', ')}`
}
