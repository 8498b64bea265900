/**
 * The one door from untrusted data to typed values: a zod/mini schema (docs/validation.md says why
 * zod) and `parseWith`, which turns zod's first issue into the caller's own AtollError with a message
 * people can act on: `peers[3].flops: expected a finite number > 0, found -1`. No zod wording
 * reaches users.
 *
 * @example
 * ```ts
 * import * as z from 'zod/mini'
 * const peer = z.object({ id: z.string(), flops: z.number().check(z.positive()) })
 * parseWith(z.array(peer), JSON.parse(text), InvalidFieldError, { root: 'peers' })
 * ```
 */
import type * as z from 'zod/mini'
import { expectation } from './schema-words.ts'

/** What was wrong with an input, in words: where, what was expected, what was found. */
export interface FieldProblem {
  /** JS notation from the root, e.g. `peers[3].flops`; '' for the value itself */
  path: string
  /** the same path as keys from the value, without the root: `[3, 'flops']`; empty for the value itself */
  keys: readonly PropertyKey[]
  /** e.g. `a number > 0`, `one of "ssgd", "dreamddp"` */
  expected: string
  /** the value, shortened, or its kind: `-1`, `"lots"`, `an object`, `nothing` */
  found: string
  /** the offending value itself (undefined when the field is missing) */
  input: unknown
  /** `path: expected …, found …` */
  message: string
}

/** An error class taking a message, or a function that builds the error from the problem. */
export type ProblemError = (new (message: string) => Error) | ((problem: FieldProblem) => Error)

export interface ParseOptions {
  /** Prefix of every path: a file name, `params`, `peers` (default none). */
  root?: string
}

/**
 * Parses `value` with `schema`; on failure throws `fail`'s error for the first problem found. A union
 * reports the alternative that got furthest into the value, so `sites[0].peers[1].name` is named
 * rather than "none of the alternatives matched".
 */
export function parseWith<S extends z.ZodMiniType>(
  schema: S,
  value: unknown,
  fail: ProblemError,
  options: ParseOptions = {},
): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true, error: expectation })
  if (result.success) return result.data
  const problem = fieldProblem(result.error.issues[0], options.root ?? '')
  throw isErrorClass(fail) ? new fail(problem.message) : fail(problem)
}

/** JSON text as a value, or `fail`'s error saying which `source` (a file, a frame) is not JSON and why. */
export function parseJson(text: string, source: string, fail: new (message: string) => Error): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new fail(`${source} is not JSON: ${(err as Error).message}`)
  }
}

function isErrorClass(fail: ProblemError): fail is new (message: string) => Error {
  return fail.prototype instanceof Error
}

type Issue = z.core.$ZodIssue

function fieldProblem(issue: Issue, root: string): FieldProblem {
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const deepest = deepestAlternative(issue.errors)
    if (deepest !== undefined) {
      return fieldProblem({ ...deepest, path: [...issue.path, ...deepest.path] }, root)
    }
  }
  let keys: readonly PropertyKey[] = issue.path
  let input = offendingValue(issue)
  let found = describeValue(input)
  if (issue.code === 'unrecognized_keys') {
    keys = [...keys, issue.keys[0]]
    input = (issue.input as Record<string, unknown> | undefined)?.[issue.keys[0]]
    found = 'an unknown field'
  }
  const path = formatPath(root, keys)
  const expected = issue.message
  const message =
    path === '' ? `expected ${expected}, found ${found}` : `${path}: expected ${expected}, found ${found}`
  return { path, keys, expected, found, input, message }
}

/** A discriminated union names its tag's path but reports the whole object: the tag is what was wrong. */
function offendingValue(issue: Issue): unknown {
  const tag = issue.code === 'invalid_union' ? issue.discriminator : undefined
  const input = issue.input
  return tag !== undefined && typeof input === 'object' && input !== null
    ? (input as Record<string, unknown>)[tag]
    : input
}

/** The first issue of the alternative that failed deepest inside the value; none if all failed at its top. */
function deepestAlternative(alternatives: Issue[][]): Issue | undefined {
  let best: Issue | undefined
  for (const issues of alternatives) {
    const first = issues[0]
    if (first !== undefined && first.path.length > (best?.path.length ?? 0)) best = first
  }
  return best
}

/** `root` followed by the path in JS notation: `.name` for identifiers, `[3]` for indices. */
function formatPath(root: string, path: readonly PropertyKey[]): string {
  let out = root
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out === '' ? key : `.${key}`
    else out += `[${JSON.stringify(String(key))}]`
  }
  return out
}

const MAX_FOUND_CHARS = 60

/** A short rendering of an untrusted value for messages: the value itself if small, else its kind. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`
  if (typeof value === 'string') {
    const text = JSON.stringify(value)
    return text.length > MAX_FOUND_CHARS ? `${text.slice(0, MAX_FOUND_CHARS - 4)}…"` : text
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'object') return 'an object'
  return `a ${typeof value}`
}
