/**
 * What a federated client sends and what the server makes of it: the global model, a client's update
 * (its model delta per tensor, in compress's codec output — `raw` for the dense strategy, compress's
 * top-k `sparse` payload for the others, the same `Encoded` a tensor message carries on the wire),
 * the server's assignment to a client for a round, and a rejection with its reason.
 */
import { type Encoded, keepCount, raw, type SparseValues, topk } from '@atoll/compress'
import type { Tensor } from '@atoll/core'

/** The global model (or a client's delta): float32 tensors by name. */
export type FlModel = ReadonlyMap<string, Tensor<'float32'>>

/** How a round's updates are encoded: dense (`fedavg`) or compress's top-k sparse payload. */
export type FlEncoding = 'dense' | 'sparse'

/** What the server asks of one client in one round. */
export interface FlAssignment {
  client: string
  round: number
  /** top-k keep ratio: each tensor of n elements may carry at most keepCount(n, keepRatio) values (1 when dense) */
  keepRatio: number
  encoding: FlEncoding
  /** updates that arrive later (by the caller's clock) are rejected as late */
  deadlineMs: number
}

/** One tensor of an update: its shape (the wire header's) and its codec output. */
export interface FlUpdateTensor {
  shape: readonly number[]
  encoded: Encoded
}

/** A client's update for a round: Δ_k = θ_local − θ_global per tensor of the global model. */
export interface FlClientUpdate {
  client: string
  round: number
  tensors: ReadonlyMap<string, FlUpdateTensor>
}

/** Why an update was refused. Envelope kinds leave the client's round open; content kinds close it. */
export type FlRejectionKind =
  /** envelope: the sender is not registered */
  | 'unregistered'
  /** envelope: registered, but not selected for this round */
  | 'not-selected'
  /** envelope: for a round other than the open one (or none is open) */
  | 'wrong-round'
  /** envelope: after the round's deadline */
  | 'late'
  /** envelope: the client's update for this round was already taken or refused */
  | 'duplicate'
  /** content: a tensor of the model is missing, or one the model does not have is present */
  | 'tensors'
  /** content: a tensor's shape (or element count) differs from the model's */
  | 'shape'
  /** content: dense where sparse was asked for, or the reverse */
  | 'codec'
  /** content: the payload does not decode (sizes, codec meta) */
  | 'malformed'
  /** content: sparse indices out of range, repeated or not increasing */
  | 'indices'
  /** content: more kept values than the assigned keep ratio allows */
  | 'over-size'
  /** content: NaN or ±Inf */
  | 'non-finite'

export const ENVELOPE_REJECTIONS: readonly FlRejectionKind[] = [
  'unregistered',
  'not-selected',
  'wrong-round',
  'late',
  'duplicate',
]

export interface FlRejection {
  client: string
  /** the round the update claimed */
  round: number
  kind: FlRejectionKind
  /** what was wrong, naming the tensor where there is one */
  reason: string
  atMs: number
}

export interface EncodeUpdateOptions {
  /** how sparse values are stored (default float32) */
  values?: SparseValues
  /** the tensors that are running statistics: always raw, whatever the assignment's encoding */
  statistics?: ReadonlySet<string>
}

/**
 * A client's update as its assignment asks: each tensor of `delta` raw (dense), or its
 * keepCount(n, keepRatio) values of largest magnitude (compress's exact top-k). What top-k drops is
 * the client's to keep (compress's ErrorFeedback) if it wants error feedback. Running statistics
 * (`options.statistics`) always go raw. Dense payloads are views of `delta`'s arrays, not copies.
 */
export function encodeFlUpdate(
  assignment: FlAssignment,
  delta: FlModel,
  options: EncodeUpdateOptions = {},
): FlClientUpdate {
  const tensors = new Map<string, FlUpdateTensor>()
  for (const [name, tensor] of delta) {
    const encoded =
      assignment.encoding === 'dense' || options.statistics?.has(name)
        ? raw.encode(tensor.data)
        : topk.encode(tensor.data, {
            k: keepCount(tensor.data.length, assignment.keepRatio),
            values: options.values,
          })
    tensors.set(name, { shape: [...tensor.shape], encoded })
  }
  return { client: assignment.client, round: assignment.round, tensors }
}
