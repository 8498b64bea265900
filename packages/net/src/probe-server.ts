/**
 * The server side of `/atoll/probe/1` and its frames. The receiver times each transfer itself: the
 * sender's clock would include the way out, the ACK's way back and any stall of a busy sender, and
 * subtracting a separately measured RTT over- or under-corrects whenever the CPU is loaded. The receiver
 * skips the first quarter of the bytes (a shaper's burst allowance and TCP's window growth both land
 * there) and reports the bytes and seconds of the rest: steady-state goodput, with no latency term.
 */
import type { Uint8ArrayList } from 'uint8arraylist'
import { MAX_PROBE_BYTES } from './constants.ts'
import { MalformedFrameError } from './errors.ts'
import type { Channel } from './protocol.ts'

export const ECHO = 1
export const SIZE = 2
export const DATA = 3
/** Sent once all announced bytes arrived: kind, steady bytes (f64), steady seconds (f64). */
export const ACK = 4
/** The answer to SIZE when this server is free: the sender may start. */
export const GO = 5
/** The answer to SIZE while another peer's probe holds this server (two would split its link). */
export const BUSY = 6
export const ACK_BYTES = 17
/** Share of a transfer's bytes left out of the timing (burst allowance, window growth). */
export const SKIP_SHARE = 0.25
/** A probe stream that takes longer than this on the server is cut off (a slow-loris guard). */
const SERVER_LIMIT_MS = 120_000

/** Receiver-side timing of one transfer. */
class ArrivalClock {
  private readonly total: number
  private received = 0
  private startAt = -1
  private startBytes = 0

  constructor(total: number) {
    this.total = total
  }

  /** Counts a DATA frame; returns the ACK once the last byte is in. */
  add(bytes: number): Uint8Array | undefined {
    const now = performance.now()
    this.received += bytes
    if (this.received > this.total) throw new MalformedFrameError('probe sent more bytes than it announced')
    // the clock starts at the frame that completes the skipped share, unless that is the last one
    if (this.startAt < 0 && this.received >= SKIP_SHARE * this.total && this.received < this.total) {
      this.startAt = now
      this.startBytes = this.received
    }
    if (this.received < this.total) return undefined
    const ack = new Uint8Array(ACK_BYTES)
    ack[0] = ACK
    const view = new DataView(ack.buffer)
    // a transfer that arrived in one piece has no steady state to time: 0 s tells the sender to grow it
    view.setFloat64(1, this.startAt < 0 ? 0 : this.total - this.startBytes)
    view.setFloat64(9, this.startAt < 0 ? 0 : (now - this.startAt) / 1000)
    return ack
  }
}

/**
 * Serves probe streams; `gate` is shared by all streams of one node so that one peer's transfers at a
 * time reach it (the holder keeps it until its stream ends).
 */
export async function serveProbe(ch: Channel, gate: { holder: Channel | null }): Promise<void> {
  const signal = AbortSignal.timeout(SERVER_LIMIT_MS)
  let clock: ArrivalClock | undefined
  try {
    for (;;) {
      const frame = await ch.reader.next(signal)
      if (frame === null) break
      const kind = frame.byteLength > 0 ? frame.get(0) : -1
      if (kind === DATA && clock !== undefined) {
        const ack = clock.add(frame.byteLength - 1)
        if (ack !== undefined) {
          clock = undefined
          await ch.writer.write(ack)
        }
      } else if (kind === ECHO && clock === undefined && frame.byteLength === 9) {
        await ch.writer.write(frame.subarray())
      } else if (kind === SIZE && clock === undefined && frame.byteLength === 9) {
        const size = readSize(frame)
        if (gate.holder !== null && gate.holder !== ch) {
          await ch.writer.write(new Uint8Array([BUSY]))
          continue
        }
        gate.holder = ch
        clock = new ArrivalClock(size)
        await ch.writer.write(new Uint8Array([GO]))
      } else {
        throw new MalformedFrameError(`unexpected probe frame (kind ${kind}, ${frame.byteLength} bytes)`)
      }
    }
    await ch.writer.close()
  } finally {
    if (gate.holder === ch) gate.holder = null
  }
}

function readSize(frame: Uint8ArrayList): number {
  const b = frame.subarray()
  const n = new DataView(b.buffer, b.byteOffset, b.byteLength).getFloat64(1)
  if (!Number.isInteger(n) || n < 1 || n > MAX_PROBE_BYTES) {
    throw new MalformedFrameError(`probe size must be an integer in [1, ${MAX_PROBE_BYTES}], got ${n}`)
  }
  return n
}
