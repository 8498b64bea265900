/**
 * The planner's inputs as zod/mini schemas: plain data from files or the wire becomes typed profiles,
 * or an InvalidFieldError naming the field, e.g. `peers[3].flops: expected a finite number > 0,
 * found -1`. Objects keep only the fields they declare.
 */
import { type FieldProblem, parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import { DEFAULT_MICRO_BATCHES } from './constants.ts'
import { InvalidFieldError } from './errors.ts'
import type { SyncProblem } from './dreamddp/model.ts'
import type { LinkProfile, OpCost, PeerProfile, SyncSpec } from './types.ts'

const name = z.string().check(z.minLength(1))
const positive = z.number().check(z.positive())
const nonNegative = z.number().check(z.nonnegative())

export const peerProfile: z.ZodMiniType<PeerProfile> = z.object({
  id: name,
  device: name,
  flops: positive,
  memoryBytes: positive,
  host: z.optional(name),
})

export const linkProfile: z.ZodMiniType<LinkProfile> = z.object({
  a: name,
  b: name,
  bandwidthBps: positive,
  rttSeconds: nonNegative,
})

/** An op cost as given: `inputs` may be left out (an op that reads no other op's output). */
export type OpCostInput = Omit<OpCost, 'inputs'> & { inputs?: string[] }

export const opCost: z.ZodMiniType<OpCost, OpCostInput> = z.object({
  id: name,
  opType: name,
  scope: z.string(),
  flops: nonNegative,
  paramBytes: nonNegative,
  outputBytes: nonNegative,
  inputs: z._default(z.array(name), []),
  params: z.optional(z.array(z.object({ name, bytes: nonNegative }))),
})

const peerList = z.array(peerProfile).check(z.minLength(1))
const linkList = z.array(linkProfile)
const opList = z.array(opCost).check(z.minLength(1))

/** What the planners take: profiles from files or built in code, held to the same rules. */
export interface PlanInput {
  peers: PeerProfile[]
  links: LinkProfile[]
  ops: OpCostInput[]
  /** micro-batches per step (default 8) */
  microBatches?: number
}

/** A plan input after the parse: op inputs and micro-batches defaulted, undeclared fields dropped. */
export type ParsedPlanInput = Required<Omit<PlanInput, 'ops'>> & { ops: OpCost[] }

const planInput: z.ZodMiniType<ParsedPlanInput> = z.object({
  peers: peerList,
  links: linkList,
  ops: opList,
  microBatches: z._default(z.int().check(z.gte(1)), DEFAULT_MICRO_BATCHES),
})

const ALGORITHMS_WITH_PERIOD = ['local-sgd', 'diloco', 'dreamddp'] as const

/** S-SGD synchronises every step, so its period is 1 whatever the input says. */
export const syncSpec = z.discriminatedUnion('algorithm', [
  z.object({ algorithm: z.literal('ssgd') }),
  z.object({ algorithm: z.enum(ALGORITHMS_WITH_PERIOD), period: z.int().check(z.gte(1)) }),
])

/** Iterations of a DreamDDP period: at least 1; a schedule's iteration indices fit in a byte. */
export const syncPeriod = z.int().check(z.gte(1), z.lte(255))

const seconds = z.number().check(z.nonnegative())

/** Per-layer times come in pairs of equal-length lists, one entry per layer name. */
const syncProblemSchema = z
  .object({
    names: z.array(z.string()),
    bp: z.array(seconds),
    comm: z.array(seconds),
    tail: z.optional(seconds),
    period: syncPeriod,
  })
  .check(
    z.superRefine((problem, ctx) => {
      for (const key of ['bp', 'comm'] as const) {
        if (problem[key].length === problem.names.length) continue
        const message = `${problem.names.length} numbers (one per layer)`
        ctx.issues.push({ code: 'custom', path: [key], input: problem[key], message })
      }
    }),
  )

/** Parses with the schema; a failure is an InvalidFieldError whose path starts at `root`. */
export function parseField<T>(schema: z.ZodMiniType<T>, raw: unknown, root: string): T {
  return parseWith(schema, raw, fieldError, { root })
}

function fieldError(problem: FieldProblem): InvalidFieldError {
  return new InvalidFieldError(problem.path, problem.expected, problem.input)
}

export function parsePeers(raw: unknown, field = 'peers'): PeerProfile[] {
  return parseField(peerList, raw, field)
}

export function parseLinks(raw: unknown, field = 'links'): LinkProfile[] {
  return parseField(linkList, raw, field)
}

export function parseOpCosts(raw: unknown, field = 'ops'): OpCost[] {
  return parseField(opList, raw, field)
}

/**
 * The planners plan from this parsed copy, never from `input` itself, so the defaults apply. Half a
 * million links parse in about 0.45 s (zod/mini interprets each object); see docs/validation.md.
 */
export function parsePlanInput(input: unknown): ParsedPlanInput {
  return parseWith(planInput, input, fieldError)
}

/** A sync choice: a known algorithm and a whole period ≥ 1 (S-SGD: 1); default S-SGD. */
export function checkSync(sync: SyncSpec | undefined): SyncSpec {
  if (sync === undefined) return { algorithm: 'ssgd', period: 1 }
  const parsed = parseField(syncSpec, sync, 'sync')
  return parsed.algorithm === 'ssgd' ? { algorithm: 'ssgd', period: 1 } : parsed
}

/** A DreamDDP problem, built in code or from profiles: equal lengths, finite times ≥ 0, a valid period. */
export function parseSyncProblem(problem: SyncProblem): SyncProblem {
  return parseWith(syncProblemSchema, problem, fieldError)
}
