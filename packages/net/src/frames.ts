/**
 * Length-prefixed frames (u32 big-endian length, then ≤ 1 MiB of bytes) over one libp2p stream, for all
 * Atoll protocols. The writer honours back-pressure (`send()` returning false → `onDrain()`) and paces
 * through an emulated link when there is one; the reader checks every length before buffering a frame.
 */
import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { FRAME_PREFIX_BYTES, MAX_FRAME_BYTES } from './constants.ts'
import { MalformedFrameError, TransferCancelledError, TransferIncompleteError } from './errors.ts'
import type { EmulatedLink } from './link.ts'

/** Frames below this size are copied into one buffer so that a small message leaves as one write. */
const COALESCE_BYTES = 64 * 1024

export interface FrameWriterOptions {
  link?: EmulatedLink
  signal?: AbortSignal
  /** Called with the number of bytes handed to the stream (for metrics). */
  onBytes?: (bytes: number) => void
}

function frameLength(parts: Uint8Array[]): number {
  const total = parts.reduce((n, p) => n + p.byteLength, 0)
  if (total > MAX_FRAME_BYTES) {
    throw new MalformedFrameError(`frame of ${total} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`)
  }
  return total
}

/** One whole frame (length prefix, then the concatenation of `parts`) in one buffer. */
export function encodeFrame(...parts: Uint8Array[]): Uint8Array {
  const total = frameLength(parts)
  const whole = new Uint8Array(FRAME_PREFIX_BYTES + total)
  new DataView(whole.buffer).setUint32(0, total)
  let off = FRAME_PREFIX_BYTES
  for (const p of parts) {
    whole.set(p, off)
    off += p.byteLength
  }
  return whole
}

export class FrameWriter {
  private delivered: Promise<void> = Promise.resolve()
  readonly stream: Stream
  private readonly options: FrameWriterOptions

  constructor(stream: Stream, options: FrameWriterOptions = {}) {
    this.stream = stream
    this.options = options
  }

  /** Writes one frame whose body is the concatenation of `parts`. */
  async write(...parts: Uint8Array[]): Promise<void> {
    const total = frameLength(parts)
    if (total <= COALESCE_BYTES) return this.send(encodeFrame(...parts))
    const prefix = new Uint8Array(FRAME_PREFIX_BYTES)
    new DataView(prefix.buffer).setUint32(0, total)
    await this.send(prefix)
    for (const p of parts) await this.send(p)
  }

  /** Writes a frame that `encodeFrame` built, as one write (a sender of many equal frames builds it once). */
  async writeEncoded(frame: Uint8Array): Promise<void> {
    return this.send(frame)
  }

  /** Closes the writable end once every (possibly delayed) byte has been handed to the stream. */
  async close(): Promise<void> {
    await this.delivered
    await this.stream.close({ signal: this.options.signal })
  }

  private async send(bytes: Uint8Array): Promise<void> {
    const { link, signal, onBytes } = this.options
    if (signal?.aborted) throw new TransferCancelledError()
    if (this.stream.writableNeedsDrain) await this.stream.onDrain({ signal })
    if (link === undefined) this.stream.send(bytes)
    else this.delivered = (await link.transmit(bytes, (s) => this.stream.send(s), signal)).delivered
    onBytes?.(bytes.byteLength)
  }
}

export class FrameReader {
  private readonly buffer = new Uint8ArrayList()
  private ended = false
  private failure: Error | undefined
  private wake: (() => void) | undefined
  /** Bytes the buffer must hold before the waiting reader can make progress. */
  private needed = 0
  readonly stream: Stream
  private readonly maxFrameBytes: number

  constructor(stream: Stream, maxFrameBytes = MAX_FRAME_BYTES, onBytes?: (bytes: number) => void) {
    this.stream = stream
    this.maxFrameBytes = maxFrameBytes
    stream.addEventListener('message', (evt) => {
      this.buffer.append(evt.data)
      onBytes?.(evt.data.byteLength)
      // a 1 MiB frame arrives in ~16 messages: wake the reader once, when all of it is here
      if (this.buffer.byteLength >= this.needed) this.notify()
    })
    stream.addEventListener('remoteCloseWrite', () => {
      this.ended = true
      this.notify()
    })
    stream.addEventListener('close', (evt) => {
      this.failure = evt.error
      this.ended = true
      this.notify()
    })
  }

  /** Bytes received but not yet returned as frames. */
  get buffered(): number {
    return this.buffer.byteLength
  }

  /**
   * The next frame, or `null` when the remote closed its end cleanly between frames. A frame that
   * declares more than `maxBytes` (default: the reader's limit) fails as soon as its length is read.
   */
  async next(signal?: AbortSignal, maxBytes = this.maxFrameBytes): Promise<Uint8ArrayList | null> {
    for (;;) {
      const frame = this.take(maxBytes)
      if (frame !== undefined) return frame
      if (this.failure !== undefined) {
        throw new TransferIncompleteError(`stream failed: ${this.failure.name}: ${this.failure.message}`)
      }
      if (this.ended) {
        if (this.buffer.byteLength === 0) return null
        throw new TransferIncompleteError(
          `stream ended inside a frame (${this.buffer.byteLength} bytes left over)`,
        )
      }
      await this.waitForData(signal)
    }
  }

  /** The next frame; the stream ending here is a TransferIncompleteError naming `what` was expected. */
  async expect(what: string, signal?: AbortSignal, maxBytes?: number): Promise<Uint8ArrayList> {
    const frame = await this.next(signal, maxBytes)
    if (frame === null) throw new TransferIncompleteError(`stream ended where ${what} was expected`)
    return frame
  }

  /** A frame already received in full, if there is one; never waits (used to find a refusal after a reset). */
  poll(): Uint8ArrayList | undefined {
    try {
      return this.take(this.maxFrameBytes)
    } catch {
      return undefined
    }
  }

  private take(maxBytes: number): Uint8ArrayList | undefined {
    if (this.buffer.byteLength < FRAME_PREFIX_BYTES) {
      this.needed = FRAME_PREFIX_BYTES
      return undefined
    }
    const length = this.buffer.getUint32(0)
    const limit = Math.min(maxBytes, this.maxFrameBytes)
    if (length > limit) {
      throw new MalformedFrameError(`frame declares ${length} bytes; the limit here is ${limit}`)
    }
    if (this.buffer.byteLength < FRAME_PREFIX_BYTES + length) {
      this.needed = FRAME_PREFIX_BYTES + length
      return undefined
    }
    this.needed = 0
    const frame = this.buffer.sublist(FRAME_PREFIX_BYTES, FRAME_PREFIX_BYTES + length)
    this.buffer.consume(FRAME_PREFIX_BYTES + length)
    return frame
  }

  private waitForData(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new TransferCancelledError())
      const onAbort = () => reject(new TransferCancelledError())
      signal?.addEventListener('abort', onAbort, { once: true })
      this.wake = () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
    })
  }

  private notify(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}

/** Copies the bytes of `list` into `target` at `offset` (no intermediate buffer). */
export function copyInto(list: Uint8ArrayList, target: Uint8Array, offset: number): void {
  for (const buf of list) {
    target.set(buf, offset)
    offset += buf.byteLength
  }
}
