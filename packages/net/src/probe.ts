/**
 * `/atoll/probe/1`: RTT and bandwidth to a peer. Frames start with a kind byte: ECHO frames come straight
 * back (RTT, median of a few rounds); SIZE announces a transfer of n bytes, the server answers GO (or
 * BUSY while another peer probes it), DATA frames carry the bytes, and the server answers ACK with its
 * own timing of the transfer's steady state (see probe-server.ts), so neither latency nor a busy
 * sender's stalls enter the estimate. Transfers grow until one is long enough to trust, then a last one
 * is sized from that estimate to fill the time budget (~1 s by default) and at least a few round trips,
 * so slow and fast links are both measured in about the same time. A node runs one probe at a time and
 * serves one at a time; probes of different nodes do not overlap where the nodes take the probe floor
 * first and ask each other or a common peer for it (probe-floor.ts). Results are cached with the time
 * they were taken. Every probe ends within a limit that grows with its budget (`probeLimitMs`), so a
 * peer that never answers cannot hold the queue.
 */
import {
  DEFAULT_PROBE_SECONDS,
  FRAME_PREFIX_BYTES,
  MAX_PROBE_BYTES,
  PROBE_PROTOCOL,
  PROBE_RTT_ROUNDS,
} from './constants.ts'
import { MalformedFrameError, ProbeFailedError } from './errors.ts'
import { encodeFrame } from './frames.ts'
import { ACK, ACK_BYTES, BUSY, DATA, ECHO, GO, SIZE, serveProbe } from './probe-server.ts'
import {
  type Channel,
  openChannel,
  type PeerTarget,
  type ProtocolContext,
  serveProtocol,
} from './protocol.ts'

const NOISE_PLAINTEXT_BYTES = 65535 - 16
const YAMUX_HEADER_BYTES = 12
/** The first transfer: small enough for a 1 Mbit/s link to finish it in a fraction of a second. */
const FIRST_TRANSFER_BYTES = 64 * 1024
/**
 * Payload of a DATA frame. A Noise message carries 65519 bytes (65535 less its tag) and a yamux frame
 * adds a 12-byte header, so a frame of 65507 bytes (length, kind, payload) crosses as one yamux frame in
 * one Noise message. Built once and sent whole, it took 25-40% less CPU per byte (both ends, loopback)
 * than a 64 KiB payload sent as three writes (length, kind, payload), and the probe of a 1 Gbit/s link
 * is CPU-bound on two cores. Small enough that the receiver's arrival times stay fine-grained.
 */
const DATA_CHUNK_BYTES = NOISE_PLAINTEXT_BYTES - YAMUX_HEADER_BYTES - FRAME_PREFIX_BYTES - 1
/** A transfer shorter than this share of the budget is only a stepping stone to size the next one. */
const TRUSTED_SHARE = 0.15
/**
 * The last transfer lasts at least this many round trips at the estimated rate. TCP's slow start from
 * 10 segments sends about twice the bandwidth-delay product before its window reaches it, so the
 * receiver's skipped quarter (2.5 round trips' worth here) covers it on a long-RTT link.
 */
const MIN_RTTS_PER_TRANSFER = 10
/** How often a busy server (probed by another peer) is asked again before the probe gives up. */
const BUSY_RETRIES = 6
/**
 * What a probe may take beyond twice its budget before it is abandoned: a dial, the echo rounds and the
 * last transfer's ten round trips fit in it up to round trips of half a second (twice the budget covers
 * a last transfer that runs past the budget).
 */
const LIMIT_BASE_MS = 15_000

/**
 * The longest a probe with a budget of `seconds` may take. A peer that accepts the stream and never
 * answers holds this node's probe queue (and a daemon's probe floor, whose lease is this long) no
 * longer than this.
 */
export function probeLimitMs(seconds: number): number {
  return LIMIT_BASE_MS + 2 * seconds * 1000
}

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

const zeros = new Uint8Array(DATA_CHUNK_BYTES)
const dataFrame = encodeFrame(new Uint8Array([DATA]), zeros)

export class LinkProbe {
  private readonly cache = new Map<string, ProbeResult>()
  private readonly inFlight = new Map<string, Promise<ProbeResult>>()
  /** This node's probes run one after another: two at once would split its upload between them. */
  private tail: Promise<void> = Promise.resolve()
  /** Which inbound probe stream may send transfers now (one peer's at a time). */
  private readonly gate: { holder: Channel | null } = { holder: null }
  private readonly seconds: number
  private readonly ctx: ProtocolContext

  constructor(ctx: ProtocolContext, init: ProbeInit = {}) {
    this.ctx = ctx
    this.seconds = init.seconds ?? DEFAULT_PROBE_SECONDS
  }

  async start(): Promise<void> {
    await serveProtocol(this.ctx, PROBE_PROTOCOL, (ch) => serveProbe(ch, this.gate), { maxInboundStreams: 4 })
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
   * one probe (and the first caller's signal), and probes of different peers wait for each other (two
   * at once would each measure half the link). A probe ends within `probeLimitMs(seconds)` of its
   * start, or when `signal` aborts, also while it waits for the probe in hand.
   */
  async probe(
    peer: PeerTarget,
    options: { maxAgeMs?: number; signal?: AbortSignal; seconds?: number } = {},
  ): Promise<ProbeResult> {
    const key = peer.toString()
    const hit = this.cache.get(key)
    const { maxAgeMs, signal } = options
    if (hit !== undefined && maxAgeMs !== undefined && Date.now() - hit.measuredAt <= maxAgeMs) return hit
    const running = this.inFlight.get(key)
    if (running !== undefined) return running
    const seconds = options.seconds ?? this.seconds
    const before = this.tail
    const run = turn(before, key, signal)
      .then(() => this.bounded(peer, seconds, signal))
      .finally(() => this.inFlight.delete(key))
    // the next probe waits for this one, or, where this one left the queue early, for the one before
    this.tail = run.then(
      () => {},
      () => before,
    )
    this.inFlight.set(key, run)
    const result = await run
    this.cache.set(key, result)
    if (result.peer !== key) this.cache.set(result.peer, result)
    return result
  }

  /** `measure` within its limit; past it, or once `signal` aborts, a ProbeFailedError that says which. */
  private async bounded(target: PeerTarget, seconds: number, signal?: AbortSignal): Promise<ProbeResult> {
    const limitMs = probeLimitMs(seconds)
    const limit = AbortSignal.timeout(limitMs)
    try {
      return await this.measure(target, seconds, signal ? AbortSignal.any([signal, limit]) : limit)
    } catch (err) {
      if (signal?.aborted) throw cancelled(target.toString(), signal)
      if (limit.aborted) {
        throw new ProbeFailedError(
          `probe of ${target} did not end within ${limitMs} ms (the limit of a ${seconds} s probe)`,
        )
      }
      throw err
    }
  }

  private async measure(target: PeerTarget, seconds: number, signal: AbortSignal): Promise<ProbeResult> {
    const started = performance.now()
    const ch = await openChannel(this.ctx, target, PROBE_PROTOCOL, { signal })
    try {
      const rtts: number[] = []
      for (let i = 0; i < PROBE_RTT_ROUNDS; i++) rtts.push(await echoRound(ch, i, signal))
      const rtt = median(rtts) / 1000
      // the fastest echo is the least inflated by a busy CPU: the share of a transfer's time it excuses
      const rttFloor = Math.min(...rtts) / 1000
      let bytes = FIRST_TRANSFER_BYTES
      let sample = await firstTransfer(ch, bytes, rttFloor, seconds, signal)
      // the budget starts once the server is ours: waiting for a busy one is not part of the measurement
      const t0 = performance.now() - sample.wall * 1000
      for (;;) {
        const rate = sample.rate
        const rest = seconds - (performance.now() - t0) / 1000
        if (sample.seconds >= TRUSTED_SHARE * seconds || bytes >= MAX_PROBE_BYTES) {
          // long enough to size the last transfer from: let it fill what is left of the budget, and
          // last enough round trips that its timed part is steady state, also where the round trips
          // ate the budget (on geo3's 160 ms eu-asia link a 1 s probe kept a 1.7 MB transfer timed
          // for 0.2 s; the daemons read that link as 14.5-29 Mbit/s for 50 beside readings of 50)
          const steady = rate * rtt * MIN_RTTS_PER_TRANSFER
          if (bytes >= MAX_PROBE_BYTES || (rest < sample.wall && bytes >= steady)) break
          const wanted = Math.max(2 * bytes, rate * rest * 0.9, steady)
          bytes = Math.min(MAX_PROBE_BYTES, Math.round(wanted))
          const last = await transfer(ch, bytes, rttFloor, signal, true)
          if (last.seconds > 0) sample = last
          break
        }
        // grow toward the size the estimate asks for, but at most 8× a step: the first small transfers
        // ride on a shaper's burst allowance and overestimate the rate
        const wanted = rate > 0 ? Math.round(rate * TRUSTED_SHARE * seconds * 1.5) : 8 * bytes
        bytes = Math.min(MAX_PROBE_BYTES, Math.min(bytes * 8, Math.max(bytes * 2, wanted)))
        sample = await transfer(ch, bytes, rttFloor, signal, true)
      }
      if (!(sample.rate > 0)) throw new MalformedFrameError('no transfer was long enough to time')
      await ch.writer.close()
      return {
        peer: ch.peer,
        rttMs: rtt * 1000,
        bytesPerSecond: sample.rate,
        bytes,
        seconds: (performance.now() - started) / 1000,
        measuredAt: Date.now(),
      }
    } catch (err) {
      ch.stream.abort(err as Error)
      const e = err as Error
      throw new ProbeFailedError(`probe of ${ch.peer} failed: ${e.name}: ${e.message}`)
    }
  }
}

/** Resolves when `before` (the probe in hand) has ended; rejects if `signal` aborts first. */
function turn(before: Promise<void>, peer: string, signal?: AbortSignal): Promise<void> {
  if (signal === undefined) return before
  return new Promise((resolve, reject) => {
    const leave = () => reject(cancelled(peer, signal))
    if (signal.aborted) return leave()
    signal.addEventListener('abort', leave, { once: true })
    void before.then(() => {
      signal.removeEventListener('abort', leave)
      resolve()
    })
  })
}

function cancelled(peer: string, signal: AbortSignal): ProbeFailedError {
  const reason = signal.reason as Error | undefined
  return new ProbeFailedError(`probe of ${peer} cancelled: ${reason?.name}: ${reason?.message}`)
}

/** The first transfer, asking again (after a random pause that grows) while another peer probes the server. */
async function firstTransfer(
  ch: Channel,
  bytes: number,
  rttFloor: number,
  seconds: number,
  signal?: AbortSignal,
): Promise<Sample> {
  for (let attempt = 0; attempt <= BUSY_RETRIES; attempt++) {
    const sample = await transfer(ch, bytes, rttFloor, signal)
    if (sample !== 'busy') return sample
    await sleep(seconds * 1000 * (0.5 + Math.random()) * (attempt + 1), signal)
  }
  throw new MalformedFrameError(`the probe server stayed busy through ${BUSY_RETRIES} retries`)
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      reject(signal?.reason ?? new Error('aborted'))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', done)
      resolve()
    }, ms)
    if (signal?.aborted) done()
    else signal?.addEventListener('abort', done, { once: true })
  })
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

interface Sample {
  /** Steady-state goodput the receiver timed, bytes per second (0 when it had nothing to time). */
  rate: number
  /** Seconds the receiver timed. */
  seconds: number
  /** Seconds from the announcement to the ACK, on this side. */
  wall: number
}

/**
 * Announces `bytes`, sends them once the server says GO, and returns the receiver's timing from the ACK
 * (or 'busy' when another peer's probe holds the server). Once a server said GO it stays this stream's
 * (`held`), so the bytes follow the announcement without waiting a round trip for the GO.
 */
async function transfer(
  ch: Channel,
  bytes: number,
  rttFloor: number,
  signal: AbortSignal | undefined,
  held: true,
): Promise<Sample>
async function transfer(
  ch: Channel,
  bytes: number,
  rttFloor: number,
  signal?: AbortSignal,
): Promise<Sample | 'busy'>
async function transfer(
  ch: Channel,
  bytes: number,
  rttFloor: number,
  signal?: AbortSignal,
  held = false,
): Promise<Sample | 'busy'> {
  const head = new Uint8Array(9)
  head[0] = SIZE
  new DataView(head.buffer).setFloat64(1, bytes)
  await ch.writer.write(head)
  if (!held && (await expectGo(ch, signal)) === 'busy') return 'busy'
  const t = performance.now()
  let left = bytes
  for (; left >= zeros.byteLength; left -= zeros.byteLength) await ch.writer.writeEncoded(dataFrame)
  if (left > 0) await ch.writer.write(dataFrame.subarray(FRAME_PREFIX_BYTES, FRAME_PREFIX_BYTES + 1 + left))
  if (held && (await expectGo(ch, signal)) === 'busy') {
    throw new MalformedFrameError('the probe server turned busy mid-probe')
  }
  const ack = await ch.reader.expect('a probe ACK', signal)
  if (ack.byteLength !== ACK_BYTES || ack.get(0) !== ACK)
    throw new MalformedFrameError('bad ACK from the probe server')
  const b = ack.subarray()
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const steadyBytes = view.getFloat64(1)
  const seconds = view.getFloat64(9)
  if (!(steadyBytes >= 0 && steadyBytes <= bytes && seconds >= 0 && Number.isFinite(seconds)))
    throw new MalformedFrameError(`bad timing in the probe ACK: ${steadyBytes} B in ${seconds} s`)
  const wall = (performance.now() - t) / 1000
  if (!(seconds > 0)) return { rate: 0, seconds, wall }
  // The receiver's clock reads high if its event loop stalled as the timed part began (the bytes queued
  // meanwhile then look instantaneous). This side's time less the fastest echo cannot read high that
  // way (stalls only lengthen it), so the lower of the two is kept.
  const ceiling = bytes / Math.max(wall - rttFloor, wall / 2)
  return { rate: Math.min(steadyBytes / seconds, ceiling), seconds, wall }
}

async function expectGo(ch: Channel, signal?: AbortSignal): Promise<'go' | 'busy'> {
  const answer = await ch.reader.expect('a probe GO', signal)
  if (answer.byteLength === 1 && answer.get(0) === BUSY) return 'busy'
  if (answer.byteLength !== 1 || answer.get(0) !== GO)
    throw new MalformedFrameError('bad GO from the probe server')
  return 'go'
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[s.length >> 1]
}
