/**
 * `/atoll/tensor/1`: tensor messages in the wire format of `@atoll/compress`. One stream per part: a
 * stripe preamble frame, the message head frame (magic, msgpack header, padding), then the part's payload
 * bytes in ≤ 1 MiB frames; the sender closes its end and the receiver answers one status frame: OK, or a
 * refusal with its reason before it resets the stream. The receiver validates the head and asks its gate
 * (gate.ts) before it allocates, copies frames straight into the payload buffer, and delivers a message
 * only when all of its parts are complete.
 */
import {
  type HeaderFields,
  type TensorHeader,
  readHeader,
  type WireLimits,
  WIRE_PREFIX_BYTES,
  wireLimits,
  encodeMessage,
} from '@atoll/compress'
import {
  DEFAULT_ASSEMBLY_TIMEOUT_MS,
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_MAX_STREAMS,
  MAX_FRAME_BYTES,
  MAX_STRIPES,
  TENSOR_PROTOCOL,
} from './constants.ts'
import { MalformedFrameError, TransferCancelledError, TransferIncompleteError } from './errors.ts'
import { copyInto } from './frames.ts'
import { type IncomingTensor, Inbox, type PayloadAllocator, type TensorFailure } from './assembly.ts'
import { Admission, type TensorGate } from './gate.ts'
import { type Channel, type PeerTarget, type ProtocolContext, serveProtocol } from './protocol.ts'
import {
  encodePreamble,
  newTransferId,
  PREAMBLE_BYTES,
  type Preamble,
  parsePreamble,
  stripeCount,
  stripeRange,
} from './stripe.ts'
import { refusal, sendPart } from './tensor-send.ts'

export type { IncomingTensor, PayloadAllocator, TensorFailure } from './assembly.ts'
export type { TensorGate } from './gate.ts'

export interface TensorInit {
  /** Wire limits (header size, payload size, rank…) applied to every incoming message. */
  limits?: Partial<WireLimits>
  /** Bytes of incomplete tensors held at once, over all senders (default 4 GiB). */
  maxPendingBytes?: number
  /** A striped tensor with no progress for this long fails (default 60 s). */
  assemblyTimeoutMs?: number
  /** Concurrent inbound tensor streams per connection (default 256). */
  maxStreams?: number
  /** Where incoming payloads go (default: a new Uint8Array each); see PayloadAllocator. */
  allocate?: PayloadAllocator
}

export interface SendOptions {
  signal?: AbortSignal
  /** Streams to stripe the payload over (default: by size, up to 4). */
  streams?: number
}

type Listener<T> = (value: T) => void

export class TensorTransport {
  private readonly limits: WireLimits
  private readonly inbox: Inbox
  private readonly admission: Admission
  private readonly messageListeners = new Set<Listener<IncomingTensor>>()
  private readonly failureListeners = new Set<Listener<TensorFailure>>()
  private readonly incomingListeners = new Set<Listener<{ from: string; header: TensorHeader }>>()
  private readonly outgoing = new Set<AbortController>()
  private readonly maxStreams: number
  private readonly assemblyTimeoutMs: number
  private readonly ctx: ProtocolContext

  constructor(ctx: ProtocolContext, init: TensorInit = {}) {
    this.ctx = ctx
    this.limits = wireLimits(init.limits)
    this.maxStreams = init.maxStreams ?? DEFAULT_MAX_STREAMS
    this.assemblyTimeoutMs = init.assemblyTimeoutMs ?? DEFAULT_ASSEMBLY_TIMEOUT_MS
    this.inbox = new Inbox(
      init.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
      this.assemblyTimeoutMs,
      {
        deliver: (msg) => this.emit(this.messageListeners, msg),
        failed: (failure) => this.emit(this.failureListeners, failure),
        began: (from, header) => this.emit(this.incomingListeners, { from, header }),
      },
      init.allocate,
    )
    this.admission = new Admission(this.assemblyTimeoutMs, (refused) =>
      this.emit(this.failureListeners, { from: refused.from, header: refused.header, error: refused }),
    )
  }

  /**
   * Admits or refuses each incoming message at its header, before any of its payload is allocated or
   * read (see TensorGate); `undefined` admits everything, as before any gate was set. A refused message
   * reaches the failure listeners as TensorRefusedError, and its sender's `send()` rejects with
   * TransferRejectedError carrying the reason.
   */
  setGate(gate: TensorGate | undefined): void {
    this.admission.gate = gate
  }

  /** Calls `listener` with every complete incoming tensor; returns an unsubscribe function. */
  onMessage(listener: Listener<IncomingTensor>): () => void {
    this.messageListeners.add(listener)
    return () => this.messageListeners.delete(listener)
  }

  /** Calls `listener` when a tensor whose header had arrived will not arrive after all. */
  onFailure(listener: Listener<TensorFailure>): () => void {
    this.failureListeners.add(listener)
    return () => this.failureListeners.delete(listener)
  }

  /** Calls `listener` when a tensor's validated header arrives, before its payload (for logs and progress). */
  onIncoming(listener: Listener<{ from: string; header: TensorHeader }>): () => void {
    this.incomingListeners.add(listener)
    return () => this.incomingListeners.delete(listener)
  }

  /** Tensors being received, and being sent, right now. */
  get inFlight(): { receiving: number; sending: number } {
    return { receiving: this.inbox.size, sending: this.outgoing.size }
  }

  async start(): Promise<void> {
    await serveProtocol(this.ctx, TENSOR_PROTOCOL, (ch) => this.receivePart(ch), {
      maxInboundStreams: this.maxStreams,
    })
  }

  /** Stops accepting streams; transfers in flight go on until `drain` or `abortAll`. */
  async stop(): Promise<void> {
    await this.ctx.host.unhandle(TENSOR_PROTOCOL)
  }

  /** Waits up to `timeoutMs` for transfers in flight to finish; true when none is left. */
  async drain(timeoutMs: number): Promise<boolean> {
    const until = performance.now() + timeoutMs
    while (this.inbox.size + this.outgoing.size > 0 && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 20))
    }
    return this.inbox.size + this.outgoing.size === 0
  }

  /** Aborts every transfer in flight, both ways; receivers of ours see TransferIncompleteError. */
  abortAll(reason = 'shutting down'): void {
    for (const c of this.outgoing) c.abort(new TransferCancelledError(reason))
    this.inbox.abortAll(new TransferIncompleteError(`receiver is ${reason}`))
  }

  /**
   * Sends one tensor message; resolves when the receiver has all of it. Throws PeerUnreachableError,
   * TransferCancelledError (signal), TransferRejectedError (the receiver refused it: its gate, its limits)
   * or TransferIncompleteError.
   */
  async send(
    peer: PeerTarget,
    fields: HeaderFields,
    payload: Uint8Array,
    options: SendOptions = {},
  ): Promise<void> {
    const [head] = encodeMessage(fields, payload, this.limits)
    const wanted = Math.max(
      1,
      Math.min(MAX_STRIPES, Math.round(options.streams ?? stripeCount(payload.byteLength))),
    )
    const parts = Math.min(wanted, Math.max(1, payload.byteLength)) // never an empty part
    const id = newTransferId()
    const control = new AbortController()
    const signal = options.signal ? AbortSignal.any([options.signal, control.signal]) : control.signal
    this.outgoing.add(control)
    try {
      await Promise.all(
        Array.from({ length: parts }, (_, part) => {
          const [start, end] = stripeRange(payload.byteLength, parts, part)
          const pre = encodePreamble(id, parts, part)
          return sendPart(this.ctx, peer, pre, head, payload.subarray(start, end), signal).catch((err) => {
            control.abort(err) // one failed part dooms the message: stop its siblings
            throw err
          })
        }),
      )
    } catch (err) {
      if (options.signal?.aborted) throw new TransferCancelledError('send cancelled by its signal')
      throw control.signal.reason instanceof Error ? control.signal.reason : err
    } finally {
      this.outgoing.delete(control)
    }
  }

  private async receivePart(ch: Channel): Promise<void> {
    const { pre, head } = await this.readOpening(ch)
    let assembly: ReturnType<Inbox['assembly']> | undefined
    try {
      const info = readHeader(head, this.limits)
      if (head.byteLength !== info.payloadOffset) {
        throw new MalformedFrameError(
          `header frame is ${head.byteLength} bytes, its prefix says ${info.payloadOffset}`,
        )
      }
      if (!this.inbox.has(ch.peer, pre)) this.admission.check(ch.peer, pre, info.header)
      assembly = this.inbox.assembly(ch.peer, pre, info.header, head)
      assembly.join(pre, head, ch.stream)
      const [start, end] = stripeRange(info.header.bytes, pre.parts, pre.part)
      let offset = start
      while (offset < end) {
        const frame = await ch.reader.expect(`tensor bytes ${offset}..${end}`, undefined, MAX_FRAME_BYTES)
        if (offset + frame.byteLength > end)
          throw new MalformedFrameError(`data frame runs past byte ${end} of the part`)
        copyInto(frame, assembly.payload, offset)
        offset += frame.byteLength
        assembly.touch()
      }
      if ((await ch.reader.next()) !== null) throw new MalformedFrameError('data after the end of the part')
      assembly.complete(pre.part)
      await ch.writer.write(new Uint8Array([0]))
      await ch.writer.close()
    } catch (err) {
      assembly?.fail(err as Error)
      refusal(ch, err as Error)
      throw err
    }
  }

  /**
   * The preamble and head frames, which must arrive within the assembly timeout: a stream that opens
   * and then says nothing would otherwise hold its slot until libp2p's two-minute inactivity timeout.
   */
  private async readOpening(ch: Channel): Promise<{ pre: Preamble; head: Uint8Array }> {
    const signal = AbortSignal.timeout(this.assemblyTimeoutMs)
    try {
      const pre = parsePreamble(
        (await ch.reader.expect('a stripe preamble', signal, PREAMBLE_BYTES)).subarray(),
      )
      const maxHead = WIRE_PREFIX_BYTES + this.limits.maxHeaderBytes + 8
      const head = (await ch.reader.expect('a tensor header', signal, maxHead)).subarray()
      return { pre, head }
    } catch (err) {
      if (!signal.aborted) throw err
      throw new TransferIncompleteError(`no stripe preamble and header within ${this.assemblyTimeoutMs} ms`)
    }
  }

  private emit<T>(listeners: Set<Listener<T>>, value: T): void {
    for (const l of listeners) {
      try {
        l(value)
      } catch {
        // a listener's failure is its own; the transport and the other listeners go on
      }
    }
  }
}
