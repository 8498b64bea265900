/**
 * The checks on an incoming sync message that need no running collective: its header (the group,
 * the edge's fields, a sender that is a member, the round, dtype and shape) — cheap enough for the
 * tensor gate, before any payload is read — and then its payload (decodes, every value finite).
 */
import { decodeTensor, type TensorHeader } from '@atoll/compress'
import type { IncomingTensor } from '@atoll/net'
import { parseSyncEdge, type SyncAddress } from './edge.ts'
import type { SyncInbox } from './inbox.ts'
import type { Arrival, Verdict } from './slot.ts'

export interface GroupView {
  group: string
  members: readonly string[]
  inbox: SyncInbox
}

const refuse = (kind: Verdict['kind'], reason: string): Verdict => ({ kind, reason })

/** The message's address, or why it is refused, from its header and sender alone. */
export function admitHeader(header: TensorHeader, from: string, view: GroupView): SyncAddress | Verdict {
  if (header.job !== view.group) return refuse('foreign', `group '${header.job}' is not '${view.group}'`)
  let address: SyncAddress
  try {
    address = parseSyncEdge(header.edge)
  } catch (err) {
    return refuse('malformed', (err as Error).message)
  }
  if (!view.members.includes(from)) return refuse('foreign', `${from} is not a member of '${view.group}'`)
  const refused = view.inbox.checkRound(header.step, address)
  if (refused !== undefined) return refused
  const notice = address.phase === 'x'
  const dtype = notice ? 'int32' : 'float32'
  if (header.dtype !== dtype || header.shape.length !== 1) {
    return refuse('foreign', `${address.phase} carries ${dtype}[n], not ${header.dtype}[${header.shape}]`)
  }
  if (notice && (header.codec !== 'raw' || header.shape[0] > view.members.length)) {
    return refuse('malformed', `a notice is raw int32 of at most ${view.members.length} indices`)
  }
  return address
}

/** The arrival a delivered message makes, or why it is rejected. */
export function arrivalOf(msg: IncomingTensor, view: GroupView): Arrival | Verdict {
  const { header, from, payload } = msg
  const address = admitHeader(header, from, view)
  if ('kind' in address) return address
  let values: Float32Array | Int32Array
  try {
    values = decodeTensor(header, payload).data as Float32Array | Int32Array
  } catch (err) {
    return refuse('malformed', `payload does not decode: ${(err as Error).message}`)
  }
  const bad = firstNonFinite(values)
  if (bad >= 0) return refuse('malformed', `element ${bad} is ${values[bad]}`)
  const { step: round, mb: piece, codec, bytes, edge } = header
  return { from, round, address, piece, codec, values, bytes, edge }
}

/** Index of the first NaN or ±Inf, or −1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) {
    // x − x is 0 for every finite x and NaN for NaN and ±Inf
    if (values[i] - values[i] !== 0) return i
  }
  return -1
}
