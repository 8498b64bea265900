/**
 * Emulated links: an in-process token bucket (rate) and delay line (one-way delay) per remote peer, for
 * single-machine runs without root. Every Atoll protocol sends through `EmulatedLink.transmit`, so all
 * streams to one peer share the bucket, as they would share a real link. Only egress is shaped: each side
 * configures the link for its own direction, which is what makes asymmetric links expressible.
 */
import { LinkConfigError, TransferCancelledError } from './errors.ts'

export interface LinkShape {
  /** Sustained rate in bytes per second. */
  rateBytesPerSecond: number
  /** One-way delay added to every chunk, in milliseconds (default 0). */
  delayMs?: number
  /**
   * What an idle link lets through before the rate applies, in bytes (default: the larger of two
   * slices, 128 KiB, and 50 ms at the rate). A shaper on a real link holds a few packets' worth: set
   * this where a slow link's short transfers matter (at 1 Mbit/s the default passes a whole second's
   * bytes at once).
   */
  burstBytes?: number
}

/** A link's shape as configured: the delay filled in, the burst where one was given. */
export type ConfiguredLinkShape = LinkShape & { delayMs: number }

/** Chunks are paced in slices of this size so a 1 MiB frame does not leave as one burst. */
const SLICE_BYTES = 64 * 1024
/**
 * Timers fire late by a millisecond or more; the bucket may hold this many seconds of tokens so that a
 * late wake-up does not lose them (which would pull the rate below the configured one).
 */
const BURST_SECONDS = 0.05

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new TransferCancelledError())
    const onAbort = () => {
      clearTimeout(timer)
      reject(new TransferCancelledError())
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * A token bucket that may go into debt: `take(n)` always subtracts and then waits until the balance is
 * back to zero, so chunks larger than the burst work and concurrent takers are served in order.
 */
export class TokenBucket {
  readonly rate: number
  readonly burst: number
  private tokens: number
  private last: number

  constructor(
    rateBytesPerSecond: number,
    burstBytes = Math.max(2 * SLICE_BYTES, rateBytesPerSecond * BURST_SECONDS),
  ) {
    if (!(rateBytesPerSecond > 0) || !Number.isFinite(rateBytesPerSecond)) {
      throw new LinkConfigError(`rate must be a positive finite number of bytes/s, got ${rateBytesPerSecond}`)
    }
    this.rate = rateBytesPerSecond
    this.burst = burstBytes
    this.tokens = burstBytes
    this.last = performance.now()
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate)
    this.last = now
    this.tokens -= bytes
    if (this.tokens >= 0) return
    try {
      await sleep((-this.tokens / this.rate) * 1000, signal)
    } catch (err) {
      this.tokens += bytes // a cancelled chunk never crosses the link
      throw err
    }
  }
}

/** Runs callbacks `delayMs` after they were scheduled, in order, without holding up the scheduler. */
class DelayLine {
  private readonly queue: { at: number; run: () => void }[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly delayMs: number

  constructor(delayMs: number) {
    this.delayMs = delayMs
  }

  /** Resolves once `run` has run; a throwing `run` (say, a reset stream) is the writer's to notice. */
  schedule(run: () => void): Promise<void> {
    const done = Promise.withResolvers<void>()
    this.queue.push({
      at: performance.now() + this.delayMs,
      run: () => {
        try {
          run()
        } catch {
          // the stream was reset meanwhile; its reader and writer report that
        }
        done.resolve()
      },
    })
    if (this.timer === undefined) this.arm()
    return done.promise
  }

  private arm(): void {
    const head = this.queue[0]
    if (head === undefined) return
    this.timer = setTimeout(() => this.flush(), Math.max(0, head.at - performance.now()))
  }

  private flush(): void {
    this.timer = undefined
    const now = performance.now()
    while (this.queue.length > 0 && this.queue[0].at <= now + 0.5) this.queue.shift()!.run()
    this.arm()
  }
}

export class EmulatedLink {
  readonly shape: ConfiguredLinkShape
  private readonly bucket: TokenBucket
  private readonly delay: DelayLine | undefined

  constructor(shape: LinkShape) {
    const { burstBytes, rateBytesPerSecond } = shape
    const delayMs = shape.delayMs ?? 0
    if (!(delayMs >= 0) || !Number.isFinite(delayMs)) {
      throw new LinkConfigError(`delayMs must be a finite number >= 0, got ${delayMs}`)
    }
    if (burstBytes !== undefined && (!(burstBytes > 0) || !Number.isFinite(burstBytes))) {
      throw new LinkConfigError(`burstBytes must be a finite number > 0, got ${burstBytes}`)
    }
    this.bucket = new TokenBucket(rateBytesPerSecond, burstBytes)
    this.shape = { rateBytesPerSecond, delayMs, ...(burstBytes === undefined ? {} : { burstBytes }) }
    this.delay = delayMs > 0 ? new DelayLine(delayMs) : undefined
  }

  /**
   * Paces `bytes` through the bucket slice by slice and hands each slice to `send` (after the one-way
   * delay, if any). Resolves once the last slice has been admitted, with a promise of its delivery: a
   * writer must await that before closing its stream, since delayed slices are still in flight.
   */
  async transmit(
    bytes: Uint8Array,
    send: (slice: Uint8Array) => void,
    signal?: AbortSignal,
  ): Promise<{ delivered: Promise<void> }> {
    let delivered = Promise.resolve()
    for (let off = 0; off < bytes.byteLength; off += SLICE_BYTES) {
      const slice = bytes.subarray(off, Math.min(bytes.byteLength, off + SLICE_BYTES))
      await this.bucket.take(slice.byteLength, signal)
      if (this.delay === undefined) send(slice)
      else delivered = this.delay.schedule(() => send(slice))
    }
    return { delivered }
  }
}

/** Emulated links by remote peer id; a default shape, when set, gives every other peer its own link. */
export class LinkTable {
  private readonly links = new Map<string, EmulatedLink>()
  private readonly explicit = new Set<string>()
  private fallback: LinkShape | null = null

  /** Shapes traffic to `peer`; `null` removes the shaping. */
  set(peer: string, shape: LinkShape | null): void {
    if (shape === null) {
      this.links.delete(peer)
      this.explicit.delete(peer)
    } else {
      this.links.set(peer, new EmulatedLink(shape))
      this.explicit.add(peer)
    }
  }

  /** Shapes traffic to every peer without an entry of its own (each such peer gets a bucket of its own). */
  setDefault(shape: LinkShape | null): void {
    if (shape !== null) new EmulatedLink(shape) // validates now, not at first use
    this.fallback = shape
    for (const peer of [...this.links.keys()]) if (!this.explicit.has(peer)) this.links.delete(peer)
  }

  get(peer: string): EmulatedLink | undefined {
    const link = this.links.get(peer)
    if (link !== undefined || this.fallback === null) return link
    const created = new EmulatedLink(this.fallback)
    this.links.set(peer, created)
    return created
  }

  entries(): [string, ConfiguredLinkShape][] {
    return [...this.links].map(([peer, link]) => [peer, link.shape])
  }
}
