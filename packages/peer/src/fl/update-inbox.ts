/**
 * The federated server's inbox of update tensors. Its gate admits a tensor at its header only when
 * a joined client selected for the open round, whose update is still due, sends a tensor of the
 * model for that round, float32 and no larger than a dense or a top-k tensor at its keep ratio can
 * be; anything else is refused before a byte of payload is read, and the sender told why. Admitted
 * tensors wait per client until it submits; what a round left is dropped when the next one starts.
 */
import { elementCount, encodedOf, keepCount, type TensorHeader } from '@atoll/compress'
import type { IncomingTensor } from '@atoll/net'
import { type FederatedRounds, type FlUpdateTensor, parseFlEdge } from '@atoll/sync'

/** A sparse entry's most bytes: a float32 value and a 5-byte varint index (compress's sparse coding). */
const MAX_SPARSE_ENTRY_BYTES = 9
/** Room for the sparse payload's own small header beside its entries. */
const SPARSE_HEADER_SLACK = 64

export class UpdateInbox {
  readonly #federation: string
  readonly #rounds: FederatedRounds
  readonly #joined: ReadonlySet<string>
  /** per client: the round its tensors are for, and the tensors by name */
  readonly #waiting = new Map<string, { round: number; tensors: Map<string, FlUpdateTensor> }>()

  constructor(federation: string, rounds: FederatedRounds, joined: ReadonlySet<string>) {
    this.#federation = federation
    this.#rounds = rounds
    this.#joined = joined
  }

  /** The tensor gate: undefined admits, a string is the reason for refusing. */
  admit(header: TensorHeader, from: string): string | undefined {
    if (header.job !== this.#federation) return `federation '${header.job}' is not served here`
    const edge = parseFlEdge(header.edge)
    if (edge?.kind !== 'update') return `edge '${header.edge}' is not an update tensor (fl.update/<name>)`
    if (!this.#joined.has(from)) return `${from} has not joined federation '${this.#federation}'`
    const open = this.#rounds.current
    if (open === undefined || header.step !== open.round)
      return `round ${header.step} is not open${open === undefined ? '' : ` (round ${open.round} is)`}`
    const entry = open.clients.find((c) => c.client === from)
    if (entry === undefined) return `${from} is not selected for round ${open.round}`
    if (entry.status !== 'waiting')
      return `${from}'s update for round ${open.round} is already ${entry.status}`
    const param = this.#rounds.model.get(edge.tensor)
    if (param === undefined) return `'${edge.tensor}' is not a tensor of the model`
    if (header.dtype !== 'float32') return `'${edge.tensor}' must be float32, not ${header.dtype}`
    const n = elementCount(header.shape)
    if (n !== param.data.length) return `'${edge.tensor}' has ${param.data.length} elements, not ${n}`
    const most = Math.max(4 * n, MAX_SPARSE_ENTRY_BYTES * keepCount(n, entry.keepRatio) + SPARSE_HEADER_SLACK)
    if (header.bytes > most)
      return `'${edge.tensor}': ${header.bytes} bytes, at most ${most} at keep ratio ${entry.keepRatio}`
    return undefined
  }

  /** Files an admitted tensor under its client and round (a second copy of a name replaces the first). */
  put(msg: IncomingTensor): void {
    const edge = parseFlEdge(msg.header.edge)
    if (edge === undefined) return
    let entry = this.#waiting.get(msg.from)
    if (entry === undefined || entry.round !== msg.header.step) {
      entry = { round: msg.header.step, tensors: new Map() }
      this.#waiting.set(msg.from, entry)
    }
    entry.tensors.set(edge.tensor, {
      shape: [...msg.header.shape],
      encoded: encodedOf(msg.header, msg.payload),
    })
  }

  /** The client's tensors for `round` (none when it sent none), taken out of the inbox. */
  take(client: string, round: number): Map<string, FlUpdateTensor> {
    const entry = this.#waiting.get(client)
    this.#waiting.delete(client)
    return entry?.round === round ? entry.tensors : new Map()
  }

  /** Drops every tensor held (a round has ended). */
  clear(): void {
    this.#waiting.clear()
  }
}
