/**
 * What one collective sends, in order per destination, a few messages in flight to each so that no
 * link idles while a receiver's status frame is on its way back. Payloads are made when their turn
 * comes (a compressed piece is encoded just before it is written), so at most a window of them is
 * held per destination.
 */
import type { Encoded, HeaderFields } from '@atoll/compress'

export type SendMessage = (
  to: string,
  fields: HeaderFields,
  payload: Uint8Array,
  signal: AbortSignal,
) => Promise<void>

interface Queue {
  waiting: (() => { fields: HeaderFields; encoded: Encoded })[]
  inFlight: number
}

export class Outbox {
  readonly #queues = new Map<string, Queue>()
  readonly #send: SendMessage
  readonly #window: number
  readonly #signal: AbortSignal
  readonly #failed: (to: string, error: Error) => void
  #pending = 0
  #idle: (() => void)[] = []

  /** `failed` hears of the first failure to each destination; nothing more is sent after the signal aborts. */
  constructor(
    send: SendMessage,
    window: number,
    signal: AbortSignal,
    failed: (to: string, error: Error) => void,
  ) {
    this.#send = send
    this.#window = window
    this.#signal = signal
    this.#failed = failed
  }

  /** Queues a message to `to`; `make` builds it when it is its turn. */
  push(to: string, make: () => { fields: HeaderFields; encoded: Encoded }): void {
    if (this.#signal.aborted) return
    const queue = this.#queues.get(to) ?? { waiting: [], inFlight: 0 }
    this.#queues.set(to, queue)
    queue.waiting.push(make)
    this.#pending++
    this.#pump(to, queue)
  }

  /** Destinations that have messages not yet received: at a deadline, the ones not taking them. */
  unacknowledged(): string[] {
    return [...this.#queues].filter(([, q]) => q.inFlight + q.waiting.length > 0).map(([to]) => to)
  }

  /** Resolves once every queued message has been received (or the outbox was aborted). */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  #pump(to: string, queue: Queue): void {
    while (queue.inFlight < this.#window && queue.waiting.length > 0 && !this.#signal.aborted) {
      const make = queue.waiting.shift()!
      queue.inFlight++
      this.#deliver(to, make).finally(() => {
        queue.inFlight--
        this.#settled(1)
        this.#pump(to, queue)
      })
    }
    if (this.#signal.aborted && queue.waiting.length > 0) {
      this.#settled(queue.waiting.length)
      queue.waiting.length = 0
    }
  }

  async #deliver(to: string, make: () => { fields: HeaderFields; encoded: Encoded }): Promise<void> {
    try {
      const { fields, encoded } = make()
      await this.#send(to, fields, encoded.payload, this.#signal)
    } catch (err) {
      if (!this.#signal.aborted) this.#failed(to, err as Error)
    }
  }

  #settled(count: number): void {
    this.#pending -= count
    if (this.#pending > 0) return
    for (const resolve of this.#idle.splice(0)) resolve()
  }
}
