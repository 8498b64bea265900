/**
 * The planner's inputs as zod/mini schemas: plain data from files or the wire becomes typed profiles,
 * or an InvalidFieldError naming the field, e.g. `peers[3].flops: expected a finite number > 0,
 * found -1`. Objects keep only the fields they declare.
 */
import { checkWith, type FieldProblem, parseWith } from '@atoll/core'
import * as z from 'zod/mini'
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
})

export const linkProfile: z.ZodMiniType<LinkProfile> = z.object({
  a: name,
  b: name,
  bandwidthBps: positive,
  rttSeconds: nonNegative,
})

export const opCost: z.ZodMiniType<OpCost> = z.object({
  id: name,
  opType: name,
  scope: z.string(),
  flops: nonNegative,
  paramBytes: nonNegative,
  outputBytes: nonNegative,
  inputs: z._default(z.array(name), []),
})

const peerList = z.array(peerProfile).check(z.minLength(1))
const linkList = z.array(linkProfile)
const opList = z.array(opCost).check(z.minLength(1))

const microBatches = z.optional(z.int().check(z.gte(1)))

const ALGORITHMS_WITH_PERIOD = ['local-sgd', 'diloco', 'dreamddp'] as const

/** S-SGD synchronises every step, so its period is 1 whatever the input says. */
const syncSpec = z.discriminatedUnion('algorithm', [
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

/** Data built in code is held to the same rules as parsed data (checked in place, nothing copied). */
export function checkPlanInput(input: {
  peers: unknown
  links: unknown
  ops: unknown
  microBatches?: unknown
}): void {
  checkWith(peerList, input.peers, fieldError, { root: 'peers' })
  checkWith(linkList, input.links, fieldError, { root: 'links' })
  checkWith(opList, input.ops, fieldError, { root: 'ops' })
  checkWith(microBatches, input.microBatches, fieldError, { root: 'microBatches' })
}

/** A sync choice: a known algorithm and a whole period ≥ 1 (S-SGD: 1); default S-SGD. */
export function checkSync(sync: SyncSpec | undefined): SyncSpec {
  if (sync === undefined) return { algorithm: 'ssgd', period: 1 }
  const parsed = parseField(syncSpec, sync, 'sync')
  return parsed.algorithm === 'ssgd' ? { algorithm: 'ssgd', period: 1 } : parsed
}

/** A DreamDDP problem, built in code or from profiles: equal lengths, finite times ≥ 0, a valid period. */
export function checkSyncProblem(problem: SyncProblem): void {
  checkWith(syncProblemSchema, problem, fieldError)
}
