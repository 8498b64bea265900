/**
 * The receiving side of striped tensors: one Assembly per (sender, transfer id) collects its parts into
 * one payload buffer and is delivered only when every part is complete. A failed part fails the whole
 * assembly, resets its sibling streams and drops the buffer: nothing partial is ever delivered.
 */
import type { TensorHeader } from '@atoll/compress'
import type { Stream } from '@libp2p/interface'
import { InboxFullError, MalformedFrameError, TransferIncompleteError } from './errors.ts'
import { type Preamble, transferKey } from './stripe.ts'

export interface IncomingTensor {
  from: string
  header: TensorHeader
  /** The payload, complete; decode it with `@atoll/compress` (`viewRaw`, codecs). */
  payload: Uint8Array
}

export interface TensorFailure {
  from: string
  /** The header, when it had arrived and been validated. */
  header?: TensorHeader
  /**
   * TransferIncompleteError (reset, dead peer, timeout), TensorRefusedError (this receiver's gate refused
   * it; nothing was allocated) or the validation error that stopped it.
   */
  error: Error
}

/**
 * Where an incoming payload is written. The default allocates; a caller that receives the same shapes
 * every step can hand back a buffer it reuses (fresh memory costs page faults on first touch, several
 * times the copy itself on a VM). The buffer must be exactly `header.bytes` long.
 */
export type PayloadAllocator = (header: TensorHeader, from: string) => Uint8Array

export class Assembly {
  readonly payload: Uint8Array
  private readonly done = new Set<number>()
  private readonly active = new Map<number, Stream>()
  private timer: ReturnType<typeof setTimeout>
  /** performance.now() of the last progress: the timer, when it fires, waits again for what is left */
  private lastProgress = performance.now()
  failed: Error | undefined
  readonly key: string
  readonly header: TensorHeader
  readonly head: Uint8Array
  readonly parts: number
  private readonly onEnd: (a: Assembly, failure?: Error) => void

  constructor(
    key: string,
    header: TensorHeader,
    head: Uint8Array,
    parts: number,
    payload: Uint8Array,
    timeoutMs: number,
    onEnd: (a: Assembly, failure?: Error) => void,
  ) {
    this.key = key
    this.header = header
    this.head = head
    this.parts = parts
    this.onEnd = onEnd
    this.payload = payload
    // re-armed from the last progress rather than refreshed at each frame: browsers' timers have no
    // refresh(), and one timer a transfer costs less than one a frame
    const check = () => {
      const left = this.lastProgress + timeoutMs - performance.now()
      if (left > 0) this.timer = setTimeout(check, left)
      else this.fail(new TransferIncompleteError(`no progress on ${describe(header)} for ${timeoutMs} ms`))
    }
    this.timer = setTimeout(check, timeoutMs)
  }

  /** Registers a part's stream; the head it carried must match the first part's byte for byte. */
  join(pre: Preamble, head: Uint8Array, stream: Stream): void {
    if (pre.parts !== this.parts || !sameBytes(head, this.head)) {
      throw new MalformedFrameError(
        `part ${pre.part} of transfer ${pre.transferId} disagrees with its siblings`,
      )
    }
    if (this.done.has(pre.part) || this.active.has(pre.part)) {
      throw new MalformedFrameError(`part ${pre.part} of transfer ${pre.transferId} arrived twice`)
    }
    this.active.set(pre.part, stream)
  }

  touch(): void {
    this.lastProgress = performance.now()
  }

  /** Marks `part` complete; returns true when that completed the whole tensor (which is then delivered). */
  complete(part: number): boolean {
    this.active.delete(part)
    this.done.add(part)
    if (this.done.size < this.parts || this.failed !== undefined) return false
    clearTimeout(this.timer)
    this.onEnd(this)
    return true
  }

  fail(error: Error): void {
    if (this.failed !== undefined || this.done.size === this.parts) return
    this.failed = error
    clearTimeout(this.timer)
    for (const stream of this.active.values()) stream.abort(error)
    this.active.clear()
    this.onEnd(this, error)
  }
}

/** Open assemblies and the bytes they hold, bounded by `maxPendingBytes`. */
export class Inbox {
  private readonly open = new Map<string, Assembly>()
  private pendingBytes = 0
  private readonly maxPendingBytes: number
  private readonly timeoutMs: number
  private readonly deliver: (msg: IncomingTensor) => void
  private readonly failed: (failure: TensorFailure) => void
  private readonly began: (from: string, header: TensorHeader) => void
  private readonly allocate: PayloadAllocator

  constructor(
    maxPendingBytes: number,
    timeoutMs: number,
    events: {
      deliver: (msg: IncomingTensor) => void
      failed: (failure: TensorFailure) => void
      began: (from: string, header: TensorHeader) => void
    },
    allocate: PayloadAllocator = (header) => new Uint8Array(header.bytes),
  ) {
    this.allocate = allocate
    this.maxPendingBytes = maxPendingBytes
    this.timeoutMs = timeoutMs
    this.deliver = events.deliver
    this.failed = events.failed
    this.began = events.began
  }

  get size(): number {
    return this.open.size
  }

  /** Whether a part of this transfer has opened its assembly already (it was admitted). */
  has(from: string, pre: Preamble): boolean {
    return this.open.has(transferKey(from, pre.transferId))
  }

  /** The assembly this part belongs to, created (and its payload allocated) by the first part to arrive. */
  assembly(from: string, pre: Preamble, header: TensorHeader, head: Uint8Array): Assembly {
    const key = transferKey(from, pre.transferId)
    const existing = this.open.get(key)
    if (existing !== undefined) return existing
    if (this.pendingBytes + header.bytes > this.maxPendingBytes) {
      throw new InboxFullError(
        `${describe(header)} needs ${header.bytes} bytes; ${this.pendingBytes} of ${this.maxPendingBytes} are in use`,
      )
    }
    const payload = this.allocate(header, from)
    if (payload.byteLength !== header.bytes) {
      throw new RangeError(
        `the payload allocator returned ${payload.byteLength} bytes for ${describe(header)}`,
      )
    }
    const a = new Assembly(key, header, head.slice(), pre.parts, payload, this.timeoutMs, (done, failure) => {
      this.open.delete(done.key)
      this.pendingBytes -= done.header.bytes
      if (failure === undefined) this.deliver({ from, header: done.header, payload: done.payload })
      else this.failed({ from, header: done.header, error: failure })
    })
    this.open.set(key, a)
    this.pendingBytes += header.bytes
    this.began(from, header)
    return a
  }

  /** Fails every open assembly (shutdown). */
  abortAll(error: Error): void {
    for (const a of [...this.open.values()]) a.fail(error)
  }
}

export function describe(header: TensorHeader): string {
  return `tensor ${header.job}/${header.step}/${header.mb}/${header.edge} (${header.dtype}[${header.shape}], ${header.bytes} bytes)`
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
