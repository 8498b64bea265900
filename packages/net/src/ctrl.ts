/**
 * `/atoll/ctrl/1`: request/response RPC. One stream per call: the caller writes one JSON frame
 * `{ v: 1, method, params }` and closes its end; the server answers one frame `{ ok: true, result }` or
 * `{ ok: false, error: { name, message } }`. Params and results are parsed against the method's schemas
 * on both sides, and both sides give up after a timeout.
 */
import { parseJson, parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import {
  CTRL_PROTOCOL,
  DEFAULT_CTRL_TIMEOUT_MS,
  DEFAULT_MAX_CTRL_BYTES,
  DEFAULT_MAX_STREAMS,
} from './constants.ts'
import {
  CtrlRemoteError,
  CtrlTimeoutError,
  SchemaError,
  TransferCancelledError,
  UnknownMethodError,
} from './errors.ts'
import {
  type Channel,
  openChannel,
  type PeerTarget,
  type ProtocolContext,
  serveProtocol,
} from './protocol.ts'

export interface CtrlMethod<Req, Res> {
  name: string
  request: z.ZodMiniType<Req>
  response: z.ZodMiniType<Res>
}

/**
 * Declares a method: its name and the zod/mini schemas its params and result must match. Both sides
 * of a call parse with them; objects declared with `z.object` drop keys they do not declare, so a
 * newer peer's extra fields are ignored rather than trusted.
 */
export function ctrlMethod<Req, Res>(
  name: string,
  request: z.ZodMiniType<Req>,
  response: z.ZodMiniType<Res>,
): CtrlMethod<Req, Res> {
  return { name, request, response }
}

export type CtrlHandler<Req, Res> = (params: Req, from: string, signal: AbortSignal) => Res | Promise<Res>

export interface CtrlInit {
  /** How long a call waits for its answer, and a handler may run (default 10 s). */
  timeoutMs?: number
  /** Largest request or response frame (default 1 MiB). */
  maxBytes?: number
}

const shortText = z.string().check(z.maxLength(128))
const requestEnvelope = z.object({ v: z.literal(1), method: shortText, params: z.optional(z.unknown()) })
const responseEnvelope = z.object({
  ok: z.boolean(),
  result: z.optional(z.unknown()),
  error: z.optional(z.object({ name: shortText, message: z.string().check(z.maxLength(8192)) })),
})

/** Parses one side of a call; `root` names it in the error (`atoll.peers result.peers[2].rttMs`). */
function parse<T>(schema: z.ZodMiniType<T>, value: unknown, root: string): T {
  return parseWith(schema, value, SchemaError, { root })
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export class CtrlRpc {
  private readonly handlers = new Map<
    string,
    { method: CtrlMethod<unknown, unknown>; handler: CtrlHandler<unknown, unknown> }
  >()
  private readonly timeoutMs: number
  private readonly maxBytes: number
  private readonly ctx: ProtocolContext
  /** Answers being written (their handlers have returned): `drain` waits for them, not for handlers. */
  private answering = 0

  constructor(ctx: ProtocolContext, init: CtrlInit = {}) {
    this.ctx = ctx
    this.timeoutMs = init.timeoutMs ?? DEFAULT_CTRL_TIMEOUT_MS
    this.maxBytes = init.maxBytes ?? DEFAULT_MAX_CTRL_BYTES
  }

  serve<Req, Res>(method: CtrlMethod<Req, Res>, handler: CtrlHandler<Req, Res>): void {
    this.handlers.set(method.name, {
      method: method as CtrlMethod<unknown, unknown>,
      handler: handler as CtrlHandler<unknown, unknown>,
    })
  }

  async start(): Promise<void> {
    await serveProtocol(this.ctx, CTRL_PROTOCOL, (ch) => this.answer(ch), {
      maxInboundStreams: DEFAULT_MAX_STREAMS,
      maxFrameBytes: this.maxBytes,
    })
  }

  async stop(): Promise<void> {
    await this.ctx.host.unhandle(CTRL_PROTOCOL)
  }

  /**
   * Waits up to `timeoutMs` for the answers being written to be closed (on WebRTC a close waits for the
   * caller's acknowledgement), so a peer that answers and stops at once does not cut its last answer
   * off; true when none is left.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const until = performance.now() + timeoutMs
    while (this.answering > 0 && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 20))
    }
    return this.answering === 0
  }

  /** Calls `method` on `peer`; throws CtrlTimeoutError, CtrlRemoteError, SchemaError or PeerUnreachableError. */
  async call<Req, Res>(
    peer: PeerTarget,
    method: CtrlMethod<Req, Res>,
    params: Req,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Res> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
    let ch: Channel | undefined
    try {
      // what is sent is the parsed value: a key the schema drops, or a default it fills, is as the
      // peer will read it, and a caller's extra field never leaves this process
      const request = parse(method.request, params, `${method.name} params`)
      ch = await openChannel(this.ctx, peer, CTRL_PROTOCOL, { signal, maxFrameBytes: this.maxBytes })
      await ch.writer.write(encodeJson({ v: 1, method: method.name, params: request }, this.maxBytes))
      await ch.writer.close()
      const answer = parse(
        responseEnvelope,
        decodeJson(await ch.reader.expect('a ctrl response', signal)),
        'response',
      )
      if (!answer.ok) {
        throw new CtrlRemoteError(answer.error?.name ?? 'Error', answer.error?.message ?? 'no message')
      }
      return parse(method.response, answer.result, `${method.name} result`)
    } catch (err) {
      ch?.stream.abort(err as Error)
      if (timeout.aborted && !options.signal?.aborted) {
        throw new CtrlTimeoutError(`${method.name} got no answer within ${timeoutMs} ms`)
      }
      if (options.signal?.aborted) throw new TransferCancelledError(`${method.name} call cancelled`)
      throw err
    }
  }

  private async answer(ch: Channel): Promise<void> {
    const signal = AbortSignal.timeout(this.timeoutMs)
    const request = parse(
      requestEnvelope,
      decodeJson(await ch.reader.expect('a ctrl request', signal)),
      'request',
    )
    const entry = this.handlers.get(request.method)
    let reply: unknown
    if (entry === undefined) {
      reply = failure(new UnknownMethodError(`no ctrl method '${request.method}'`))
    } else {
      try {
        const params = parse(entry.method.request, request.params, `${request.method} params`)
        const result = await entry.handler(params, ch.peer, signal)
        reply = { ok: true, result: parse(entry.method.response, result, `${request.method} result`) }
      } catch (err) {
        reply = failure(err as Error)
      }
    }
    this.answering++
    try {
      await ch.writer.write(encodeJson(reply, this.maxBytes))
      await ch.writer.close()
    } finally {
      this.answering--
    }
  }
}

function failure(err: Error): unknown {
  return { ok: false, error: { name: err.name, message: err.message.slice(0, 8192) } }
}

function encodeJson(value: unknown, maxBytes: number): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(value))
  if (bytes.byteLength > maxBytes) {
    throw new SchemaError(`ctrl message of ${bytes.byteLength} bytes exceeds the ${maxBytes}-byte limit`)
  }
  return bytes
}

function decodeJson(frame: { subarray(): Uint8Array }): unknown {
  let text: string
  try {
    text = decoder.decode(frame.subarray())
  } catch (err) {
    throw new SchemaError(`ctrl frame is not UTF-8: ${(err as Error).message}`)
  }
  return parseJson(text, 'ctrl frame', SchemaError)
}
