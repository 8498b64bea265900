/**
 * `/atoll/probe/1`: RTT and bandwidth to a peer. Frames start with a kind byte: ECHO frames come straight
 * back (RTT, median of a few rounds); SIZE announces a transfer of n bytes, DATA frames carry them, and
 * the server answers ACK once all n arrived. Transfers grow until one is long enough to trust, then a
 * last one is sized from that estimate to fill the time budget (~1 s by default), so slow and fast
 * links are both measured in about the same time. Results are cached with the time they were taken.
 */
import type { Uint8ArrayList } from 'uint8arraylist'
import {
  DEFAULT_PROBE_SECONDS,
  MAX_FRAME_BYTES,
  MAX_PROBE_BYTES,
  PROBE_PROTOCOL,
  PROBE_RTT_ROUNDS,
} from './constants.ts'
import { MalformedFrameError, ProbeFailedError } from './errors.ts'
import {
  type Channel,
  openChannel,
  type PeerTarget,
  type ProtocolContext,
  serveProtocol,
} from './protocol.ts'

const ECHO = 1
const SIZE = 2
const DATA = 3
const ACK = 4
/** A probe stream that takes longer than this on the server is cut off (a slow-loris guard). */
const SERVER_LIMIT_MS = 120_000
/** The first transfer: small enough for a 1 Mbit/s link to finish it in a fraction of a second. */
const FIRST_TRANSFER_BYTES = 32 * 1024
/** A transfer shorter than this share of the budget is only a stepping stone to size the next one. */
const TRUSTED_SHARE = 0.15

export interface ProbeResult {
  peer: string
  /** Median round-trip time of the echo rounds, milliseconds. */
  rttMs: number
  /** Goodput of the final transfer, bytes per second. */
  bytesPerSecond: number
  /** Size of the final transfer. */
  bytes: number
  /** Wall time of the whole probe, seconds. */
  seconds: number
  /** When the probe finished (ms since the epoch); the cache compares against it. */
  measuredAt: number
}

export interface ProbeInit {
  /** Time budget of one probe in seconds (default 1). */
  seconds?: number
}

const zeros = new Uint8Array(MAX_FRAME_BYTES - 1)

export class LinkProbe {
  private readonly cache = new Map<string, ProbeResult>()
  private readonly inFlight = new Map<string, Promise<ProbeResult>>()
  private readonly seconds: number
  private readonly ctx: ProtocolContext

  constructor(ctx: ProtocolContext, init: ProbeInit = {}) {
    this.ctx = ctx
    this.seconds = init.seconds ?? DEFAULT_PROBE_SECONDS
  }

  async start(): Promise<void> {
    await serveProtocol(this.ctx, PROBE_PROTOCOL, (ch) => serveProbe(ch), { maxInboundStreams: 4 })
  }

  async stop(): Promise<void> {
    await this.ctx.host.unhandle(PROBE_PROTOCOL)
  }

  /** The cached result for `peer`, if any. */
  cached(peer: string): ProbeResult | undefined {
    return this.cache.get(peer)
  }

  results(): ProbeResult[] {
    return [...this.cache.values()]
  }

  /**
   * Probes `peer` unless a result younger than `maxAgeMs` is cached; concurrent calls for one peer share
   * one probe (two probes at once would each measure half the link).
   */
  async probe(
    peer: PeerTarget,
    options: { maxAgeMs?: number; signal?: AbortSignal; seconds?: number } = {},
  ): Promise<ProbeResult> {
    const key = peer.toString()
    const hit = this.cache.get(key)
    const { maxAgeMs } = options
    if (hit !== undefined && maxAgeMs !== undefined && Date.now() - hit.measuredAt <= maxAgeMs) return hit
    const running = this.inFlight.get(key)
    if (running !== undefined) return running
    const run = this.measure(peer, options.seconds ?? this.seconds, options.signal).finally(() =>
      this.inFlight.delete(key),
    )
    this.inFlight.set(key, run)
    const result = await run
    this.cache.set(key, result)
    if (result.peer !== key) this.cache.set(result.peer, result)
    return result
  }

  private async measure(target: PeerTarget, seconds: number, signal?: AbortSignal): Promise<ProbeResult> {
    const t0 = performance.now()
    const ch = await openChannel(this.ctx, target, PROBE_PROTOCOL, { signal })
    try {
      const rtts: number[] = []
      for (let i = 0; i < PROBE_RTT_ROUNDS; i++) rtts.push(await echoRound(ch, i, signal))
      const rtt = median(rtts) / 1000
      let bytes = FIRST_TRANSFER_BYTES
      let rate = 0
      for (;;) {
        const sample = { bytes, seconds: await transfer(ch, bytes, signal) }
        rate = estimate(sample, rtt)
        const rest = seconds - (performance.now() - t0) / 1000
        if (sample.seconds >= TRUSTED_SHARE * seconds || bytes >= MAX_PROBE_BYTES) {
          // long enough to size the last transfer from: let it fill what is left of the budget
          if (rest < sample.seconds || bytes >= MAX_PROBE_BYTES) break
          bytes = Math.min(MAX_PROBE_BYTES, Math.max(2 * bytes, Math.round(rate * rest * 0.9)))
          rate = estimate({ bytes, seconds: await transfer(ch, bytes, signal) }, rtt)
          break
        }
        // grow toward the size the estimate asks for, but at most 8× a step: the first small transfers
        // ride on a shaper's burst allowance and overestimate the rate
        const wanted = Math.round(rate * TRUSTED_SHARE * seconds * 1.5)
        bytes = Math.min(MAX_PROBE_BYTES, Math.min(bytes * 8, Math.max(bytes * 2, wanted)))
      }
      await ch.writer.close()
      return {
        peer: ch.peer,
        rttMs: rtt * 1000,
        bytesPerSecond: rate,
        bytes,
        seconds: (performance.now() - t0) / 1000,
        measuredAt: Date.now(),
      }
    } catch (err) {
      ch.stream.abort(err as Error)
      const e = err as Error
      throw new ProbeFailedError(`probe of ${ch.peer} failed: ${e.name}: ${e.message}`)
    }
  }
}

async function echoRound(ch: Channel, i: number, signal?: AbortSignal): Promise<number> {
  const body = new Uint8Array(9)
  body[0] = ECHO
  new DataView(body.buffer).setFloat64(1, i)
  const t = performance.now()
  await ch.writer.write(body)
  const back = await ch.reader.expect('an echo', signal)
  if (back.byteLength !== 9 || back.get(0) !== ECHO)
    throw new MalformedFrameError('bad echo from the probe server')
  return performance.now() - t
}

/** Sends `bytes` and waits for the ACK; returns the seconds from the announcement to the ACK. */
async function transfer(ch: Channel, bytes: number, signal?: AbortSignal): Promise<number> {
  const head = new Uint8Array(9)
  head[0] = SIZE
  new DataView(head.buffer).setFloat64(1, bytes)
  const t = performance.now()
  await ch.writer.write(head)
  const kind = new Uint8Array([DATA])
  for (let left = bytes; left > 0; left -= zeros.byteLength) {
    await ch.writer.write(kind, zeros.subarray(0, Math.min(left, zeros.byteLength)))
  }
  const ack = await ch.reader.expect('a probe ACK', signal)
  if (ack.byteLength !== 1 || ack.get(0) !== ACK)
    throw new MalformedFrameError('bad ACK from the probe server')
  return (performance.now() - t) / 1000
}

async function serveProbe(ch: Channel): Promise<void> {
  const signal = AbortSignal.timeout(SERVER_LIMIT_MS)
  let expected = 0
  for (;;) {
    const frame = await ch.reader.next(signal)
    if (frame === null) break
    const kind = frame.byteLength > 0 ? frame.get(0) : -1
    if (kind === DATA && expected > 0) {
      expected -= frame.byteLength - 1
      if (expected < 0) throw new MalformedFrameError('probe sent more bytes than it announced')
      if (expected === 0) await ch.writer.write(new Uint8Array([ACK]))
    } else if (kind === ECHO && expected === 0 && frame.byteLength === 9) {
      await ch.writer.write(frame.subarray())
    } else if (kind === SIZE && expected === 0 && frame.byteLength === 9) {
      expected = readSize(frame)
    } else {
      throw new MalformedFrameError(`unexpected probe frame (kind ${kind}, ${frame.byteLength} bytes)`)
    }
  }
  await ch.writer.close()
}

function readSize(frame: Uint8ArrayList): number {
  const b = frame.subarray()
  const n = new DataView(b.buffer, b.byteOffset, b.byteLength).getFloat64(1)
  if (!Number.isInteger(n) || n < 1 || n > MAX_PROBE_BYTES) {
    throw new MalformedFrameError(`probe size must be an integer in [1, ${MAX_PROBE_BYTES}], got ${n}`)
  }
  return n
}

interface Sample {
  bytes: number
  seconds: number
}

/**
 * Goodput of the last transfer: its bytes over its time less one RTT (the first byte's way out and the
 * ACK's way back). A difference of two transfers would cancel more, but it is biased low whenever the
 * smaller one still rode on a shaper's burst allowance, so the last, largest transfer is used alone.
 */
function estimate(last: Sample, rtt: number): number {
  return last.bytes / Math.max(last.seconds - rtt, last.seconds / 2)
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[s.length >> 1]
}
