/**
 * Federated rounds on the mesh: the ctrl methods a client calls on the server (`/atoll/ctrl/1`,
 * JSON checked by these schemas on both ends) and the tensor edges that carry the round's model to
 * a client and its update back (`/atoll/tensor/1`, compress's wire format). Browser-safe: the web
 * client speaks the same messages. docs/fl.md describes the exchange:
 *
 *   join → task (long poll) → model (the server pushes `fl.model/<name>` tensors, then answers) →
 *   local training → the client pushes `fl.update/<name>` tensors → submit (accepted, or the reason) → task …
 *
 * Every tensor message of a federation has `job` = the federation's name, `step` = the round, `mb` = 0.
 */
import { ctrlMethod } from '@atoll/net'
import * as z from 'zod/mini'
import type { FlRejectionKind } from './update.ts'

/** A federation's name: it tags its tensors on the wire as a job id does (the same alphabet). */
export const FEDERATION_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/
/** Rounds, samples: far beyond any real federation, small enough to count in a double. */
export const MAX_FL_ROUNDS = 1_000_000
/** The longest a task call waits for a round (a client asks again after). */
export const MAX_TASK_WAIT_MS = 60_000

const text = (maxLength: number) => z.string().check(z.maxLength(maxLength))
const count = (max: number) => z.int().check(z.gte(0), z.lte(max))
const federation = z
  .string()
  .check(z.regex(FEDERATION_NAME, { error: 'a federation name ([a-z0-9._-], ≤ 64)' }))
const round = count(MAX_FL_ROUNDS)
/** a tensor's name; it goes into an edge name, which the wire bounds at 256 characters */
const tensorName = text(240)

/** What a client tells the server when it joins. */
const joinRequest = z.object({
  /** p_k: the client's training samples, its weight in the average */
  samples: z.int().check(z.gte(1), z.lte(2 ** 31)),
  /** the client's measured upload bandwidth to the server, bytes per second (its probe of the server) */
  bandwidthBps: z.number().check(z.gt(0), z.lte(1e12)),
})

/** What every client of the federation trains, and how: the server's FL.yaml. */
const joinAnswer = z.object({
  /** the federation's name: the other calls carry it, its tensors are tagged with it */
  federation,
  /** the round that runs next */
  round,
  /** rounds the federation runs in all */
  rounds: round,
  /** a zoo model of @atoll/core by name, and its initialisation seed (the shapes the server checks) */
  model: z.object({ zoo: text(64), seed: count(2 ** 31) }),
  dataset: text(64),
  /**
   * the model's running statistics (BatchNorm's) among its tensors: every client sends them dense,
   * as θ_local − θ_global, and the server averages them by sample count, whatever the strategy
   */
  statistics: z._default(z.array(text(256)).check(z.maxLength(4096)), []),
  local: z.object({
    epochs: z.int().check(z.gte(1), z.lte(1000)),
    /** at most this many local steps a round; 0: no limit besides the epochs */
    maxSteps: count(1_000_000),
    batchSize: z.int().check(z.gte(1), z.lte(1 << 16)),
    lr: z.number().check(z.gte(0), z.lte(1e3)),
    momentum: z.number().check(z.gte(0), z.lt(1)),
  }),
})
export type FlJoinAnswer = z.infer<typeof joinAnswer>

/**
 * Registers the caller (its peer id is its client id), or re-registers it with a new bandwidth; a
 * server serves one federation, whose name and settings the answer gives.
 */
export const flJoinMethod = ctrlMethod('atoll.fl.join', joinRequest, joinAnswer)

const trainTask = z.object({
  kind: z.literal('train'),
  round,
  /** top-k keep ratio: at most keepCount(n, keepRatio) values per tensor of n elements (1: dense) */
  keepRatio: z.number().check(z.gt(0), z.lte(1)),
  encoding: z.enum(['dense', 'sparse']),
  /** milliseconds from the answer to the round's deadline (the server's clock; an update after it is late) */
  deadlineInMs: count(2 ** 31),
})
export type FlTrainTask = z.infer<typeof trainTask>

/**
 * The client's next task: train in a round it is selected for (a round after `after`), wait (no such
 * round within `waitMs`: ask again), or stop (the federation has run its rounds).
 */
export const flTaskMethod = ctrlMethod(
  'atoll.fl.task',
  z.object({
    federation,
    after: z.int().check(z.gte(-1), z.lte(MAX_FL_ROUNDS)),
    waitMs: count(MAX_TASK_WAIT_MS),
  }),
  z.discriminatedUnion('kind', [
    trainTask,
    z.object({ kind: z.literal('wait') }),
    z.object({ kind: z.literal('done') }),
  ]),
)
export type FlTask = z.infer<typeof flTaskMethod.response>

/**
 * The round's global model: the server sends each tensor to the caller as an `fl.model/<name>`
 * message (raw float32), then answers with their names and shapes. Only a client selected for the
 * open round, with its update still due, may ask.
 */
export const flModelMethod = ctrlMethod(
  'atoll.fl.model',
  z.object({ federation, round }),
  z.object({
    tensors: z
      .array(z.object({ name: tensorName, shape: z.array(count(2 ** 31)).check(z.maxLength(8)) }))
      .check(z.maxLength(65536)),
  }),
)

const REJECTION_KINDS = [
  'unregistered',
  'not-selected',
  'wrong-round',
  'late',
  'duplicate',
  'tensors',
  'shape',
  'codec',
  'malformed',
  'indices',
  'over-size',
  'non-finite',
] as const satisfies readonly FlRejectionKind[]

/**
 * The client's update for `round` is complete: every `fl.update/<name>` tensor of it has been sent.
 * The server checks it (FederatedRounds' checks) and answers whether it counts, or why not.
 */
export const flSubmitMethod = ctrlMethod(
  'atoll.fl.submit',
  z.object({ federation, round }),
  z.discriminatedUnion('accepted', [
    z.object({ accepted: z.literal(true), bytes: count(2 ** 42) }),
    z.object({ accepted: z.literal(false), kind: z.enum(REJECTION_KINDS), reason: text(2048) }),
  ]),
)
export type FlSubmitAnswer = z.infer<typeof flSubmitMethod.response>

/** The client leaves: a round that still waits for its update drops it. */
export const flLeaveMethod = ctrlMethod('atoll.fl.leave', z.object({ federation }), z.object({}))

const MODEL_PREFIX = 'fl.model/'
const UPDATE_PREFIX = 'fl.update/'

/** The tensor edges of a federation: the global model to a client, a client's update to the server. */
export const flEdge = {
  model: (tensor: string) => `${MODEL_PREFIX}${tensor}`,
  update: (tensor: string) => `${UPDATE_PREFIX}${tensor}`,
}

/** Which tensor of which kind an edge carries, or undefined when it is not a federation's edge. */
export function parseFlEdge(edge: string): { kind: 'model' | 'update'; tensor: string } | undefined {
  if (edge.startsWith(MODEL_PREFIX)) return { kind: 'model', tensor: edge.slice(MODEL_PREFIX.length) }
  if (edge.startsWith(UPDATE_PREFIX)) return { kind: 'update', tensor: edge.slice(UPDATE_PREFIX.length) }
  return undefined
}
