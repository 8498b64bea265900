/** The sending half of `/atoll/tensor/1` (one part on one stream), and the status frames both sides use. */
import { parseJson, parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import { MAX_FRAME_BYTES, TENSOR_PROTOCOL } from './constants.ts'
import {
  MalformedFrameError,
  TensorRefusedError,
  TransferCancelledError,
  TransferIncompleteError,
  TransferRejectedError,
} from './errors.ts'
import { type Channel, openChannel, type PeerTarget, type ProtocolContext } from './protocol.ts'

const OK = 0
const REFUSED = 1
/** Why a receiver refused: its error's name and message, bounded as `refusal` writes them. */
const refusalReason = z.object({
  name: z.string().check(z.maxLength(128)),
  message: z.string().check(z.maxLength(4096)),
})
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Sends one part: preamble, head, payload frames; then waits for the receiver's status frame. */
export async function sendPart(
  ctx: ProtocolContext,
  peer: PeerTarget,
  preamble: Uint8Array,
  head: Uint8Array,
  part: Uint8Array,
  signal: AbortSignal,
): Promise<void> {
  const ch = await openChannel(ctx, peer, TENSOR_PROTOCOL, { signal })
  const onAbort = () => ch.stream.abort(new TransferCancelledError())
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    await ch.writer.write(preamble)
    await ch.writer.write(head)
    for (let off = 0; off < part.byteLength; off += MAX_FRAME_BYTES) {
      await ch.writer.write(part.subarray(off, Math.min(part.byteLength, off + MAX_FRAME_BYTES)))
    }
    await ch.writer.close()
    readStatus(await ch.reader.expect('the receiver status', signal), ch.peer)
  } catch (err) {
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new TransferCancelledError()
    // a refusal frame may have arrived just before the reset that made the write fail
    const status = ch.reader.poll()
    if (status !== undefined) readStatus(status, ch.peer)
    ch.stream.abort(err as Error)
    throw asTransferError(err as Error)
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** Best effort: tells the sender why its message was refused, before the stream is reset. */
export function refusal(ch: Channel, err: Error): void {
  try {
    // the sender knows its own header and peer id: of a gate's refusal, only the reason is news to it
    const message = err instanceof TensorRefusedError ? err.reason : err.message
    const reason = { name: err.name.slice(0, 128), message: message.slice(0, 4096) }
    const body = encoder.encode(JSON.stringify(reason))
    const frame = new Uint8Array(5 + body.byteLength)
    new DataView(frame.buffer).setUint32(0, 1 + body.byteLength)
    frame[4] = REFUSED
    frame.set(body, 5)
    ch.stream.send(frame)
  } catch {
    // the stream is already gone; the reset says enough
  }
}

function readStatus(frame: { byteLength: number; subarray(): Uint8Array }, peer: string): void {
  const bytes = frame.subarray()
  if (bytes.byteLength === 1 && bytes[0] === OK) return
  if (bytes[0] !== REFUSED)
    throw new MalformedFrameError(`bad status frame from the receiver (${bytes.byteLength} bytes)`)
  let why: z.infer<typeof refusalReason>
  try {
    const text = parseJson(decoder.decode(bytes.subarray(1)), 'the refusal reason', MalformedFrameError)
    why = parseWith(refusalReason, text, MalformedFrameError, { root: 'refusal' })
  } catch (err) {
    // an unreadable reason is still a refusal
    why = { name: 'Error', message: `unreadable reason (${(err as Error).message})` }
  }
  throw new TransferRejectedError(peer, why.name, why.message)
}

/** Typed failures pass as they are (a refusal read after the last write included); others become incomplete. */
function asTransferError(err: Error): Error {
  if (['TransferIncompleteError', 'TransferRejectedError', 'PeerUnreachableError'].includes(err.name))
    return err
  return new TransferIncompleteError(`stream failed mid-message: ${err.name}: ${err.message}`)
}
