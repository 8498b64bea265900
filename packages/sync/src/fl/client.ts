/**
 * A federated client's side of the wire (wire.ts), the same in Node and in a browser: join with the
 * measured upload bandwidth, ask for tasks, take the round's model, have the caller train it, send
 * its Δ = θ_local − θ_global as the round asks (encodeFlUpdate: dense, or top-k at the assigned keep
 * ratio) and submit. How to train is the caller's (`train`): runtime's localTrainer on
 * onnxruntime-node or onnxruntime-web; nothing else differs between Node and a browser.
 */
import { decodeTensor } from '@atoll/compress'
import { tensor } from '@atoll/core'
import {
  type AtollMesh,
  type CtrlMethod,
  CtrlTimeoutError,
  type IncomingTensor,
  type Multiaddr,
  probeLimitMs,
} from '@atoll/net'
import { FlClientError } from './errors.ts'
import { encodeFlUpdate, type FlModel } from './update.ts'
import {
  type FlJoinAnswer,
  type FlSubmitAnswer,
  type FlTask,
  type FlTrainTask,
  flEdge,
  flJoinMethod,
  flLeaveMethod,
  flModelMethod,
  flSubmitMethod,
  flTaskMethod,
  parseFlEdge,
} from './wire.ts'

/** One round's training, as the caller's `train` gets it. */
export interface FlTrainRound {
  task: FlTrainTask
  /** the round's global model */
  model: FlModel
  settings: FlJoinAnswer
}

export type FlClientEvent =
  | { kind: 'joined'; settings: FlJoinAnswer }
  | { kind: 'round'; task: FlTrainTask; modelBytes: number; downloadSeconds: number }
  | { kind: 'uploaded'; round: number; bytes: number; seconds: number; answer: FlSubmitAnswer }
  /** the round closed (or dropped this client) before its model or update went through */
  | { kind: 'missed'; round: number; reason: string }
  | { kind: 'done' }

export interface FlClientInit {
  mesh: AtollMesh
  /** the server's multiaddr, ending in /p2p/<peer id> */
  server: Multiaddr
  /** p_k: training samples this client holds */
  samples: number
  /** upload bandwidth to the server, bytes/s (measureUplink) */
  bandwidthBps: number
  /** called once after joining, before any round: a client that cannot train what the server asks throws here */
  prepare?(settings: FlJoinAnswer): void | Promise<void>
  /**
   * trains the round's model on local data; returns Δ = θ_local − θ_global for every tensor of the
   * global model (what runtime's localTrainer gives)
   */
  train(round: FlTrainRound): Promise<FlModel>
  onEvent?(event: FlClientEvent): void
  signal?: AbortSignal
  /** how long one task call waits on the server for a round (default 20 s) */
  taskWaitMs?: number
}

export interface FlClientSummary {
  /** rounds this client's update was accepted in */
  accepted: number[]
  /** rounds it trained in whose update was refused or missed, with the reason */
  refused: { round: number; reason: string }[]
}

const DEFAULT_TASK_WAIT_MS = 20_000
/** A ctrl call's time beyond what the server may take on purpose (a long poll, a model push). */
const CALL_SLACK_MS = 15_000
/** A leaving client waits this long to be heard; a server that does not answer drops it at the deadline. */
const LEAVE_TIMEOUT_MS = 2_000

/** The upload bandwidth to `server` in bytes/s: its probe (/atoll/probe/1) under the server's probe floor. */
export async function measureUplink(mesh: AtollMesh, server: Multiaddr, seconds: number): Promise<number> {
  const limitMs = probeLimitMs(seconds)
  // the floor keeps clients that join together from probing the server at once (each would read a share)
  const hold = await mesh.floor.acquire([server], limitMs, { waitMs: 4 * limitMs })
  try {
    return (await mesh.probe.probe(server, { seconds })).bytesPerSecond
  } finally {
    await hold?.release()
  }
}

/** Joins the federation at `init.server` and takes part in its rounds until it is done. */
export async function runFlClient(init: FlClientInit): Promise<FlClientSummary> {
  const { mesh } = init
  const serverId = peerIdOf(init.server)
  const call: Call = (method, params, ms = 0) =>
    mesh.ctrl.call(init.server, method, params, { timeoutMs: ms + CALL_SLACK_MS, signal: init.signal })
  const summary: FlClientSummary = { accepted: [], refused: [] }
  const settings = await call(flJoinMethod, { samples: init.samples, bandwidthBps: init.bandwidthBps })
  const { federation } = settings
  const inbox = new ModelInbox(federation, serverId)
  mesh.tensors.setGate((header, from) => inbox.admit(header, from))
  const unsubscribe = mesh.tensors.onMessage((msg) => inbox.put(msg))
  try {
    init.onEvent?.({ kind: 'joined', settings })
    await init.prepare?.(settings)
    const waitMs = init.taskWaitMs ?? DEFAULT_TASK_WAIT_MS
    let after = settings.round - 1
    for (;;) {
      let task: FlTask
      try {
        task = await call(flTaskMethod, { federation, after, waitMs }, waitMs)
      } catch (err) {
        if (err instanceof CtrlTimeoutError) continue // a busy server: ask again
        throw err
      }
      if (task.kind === 'done') break
      if (task.kind !== 'train') continue
      after = task.round
      const outcome = await takePart(init, settings, task, inbox, call)
      if (outcome.accepted) summary.accepted.push(task.round)
      else summary.refused.push({ round: task.round, reason: outcome.reason })
    }
    init.onEvent?.({ kind: 'done' })
    return summary
  } catch (err) {
    // not under init.signal: a client stopped by its user is the one that must still say so
    const leaving = { timeoutMs: LEAVE_TIMEOUT_MS }
    await mesh.ctrl.call(init.server, flLeaveMethod, { federation }, leaving).catch(() => {}) // best effort
    throw err
  } finally {
    unsubscribe()
    mesh.tensors.setGate(undefined)
  }
}

type Call = <Req, Res>(method: CtrlMethod<Req, Res>, params: Req, ms?: number) => Promise<Res>

/** One round: the model down, training, the update up, submit. */
async function takePart(
  init: FlClientInit,
  settings: FlJoinAnswer,
  task: FlTrainTask,
  inbox: ModelInbox,
  call: Call,
): Promise<{ accepted: true } | { accepted: false; reason: string }> {
  const { mesh } = init
  const { federation } = settings
  const missed = (reason: string) => {
    init.onEvent?.({ kind: 'missed', round: task.round, reason })
    return { accepted: false as const, reason }
  }
  const t0 = performance.now()
  let model: FlModel
  try {
    const answer = await call(flModelMethod, { federation, round: task.round }, task.deadlineInMs)
    model = inbox.take(task.round, answer.tensors)
  } catch (err) {
    if (err instanceof FlClientError || (err as Error).name === 'CtrlRemoteError')
      return missed((err as Error).message)
    throw err
  }
  const downloadSeconds = (performance.now() - t0) / 1000
  let modelBytes = 0
  for (const t of model.values()) modelBytes += t.data.byteLength
  init.onEvent?.({ kind: 'round', task, modelBytes, downloadSeconds })
  const delta = await init.train({ task, model, settings })
  const assignment = {
    client: mesh.peerId,
    round: task.round,
    keepRatio: task.keepRatio,
    encoding: task.encoding,
  }
  const update = encodeFlUpdate({ ...assignment, deadlineMs: 0 }, delta, {
    statistics: new Set(settings.statistics),
  })
  const t1 = performance.now()
  let bytes = 0
  try {
    for (const [name, { shape, encoded }] of update.tensors) {
      const { codec, codecMeta, payload } = encoded
      const fields = { job: federation, step: task.round, mb: 0, edge: flEdge.update(name) }
      await mesh.tensors.send(
        init.server,
        { ...fields, dtype: 'float32', shape: [...shape], codec, codecMeta },
        payload,
        {
          signal: init.signal,
        },
      )
      bytes += payload.byteLength
    }
  } catch (err) {
    if ((err as Error).name === 'TransferRejectedError') return missed((err as Error).message)
    throw err
  }
  const answer = await call(flSubmitMethod, { federation, round: task.round })
  const seconds = (performance.now() - t1) / 1000
  init.onEvent?.({ kind: 'uploaded', round: task.round, bytes, seconds, answer })
  return answer.accepted
    ? { accepted: true }
    : { accepted: false, reason: `${answer.kind}: ${answer.reason}` }
}

/**
 * The model tensors the server pushes: admitted only from the server, for this federation, on a model
 * edge, raw float32; kept by round until `take` assembles them.
 */
class ModelInbox {
  readonly #federation: string
  readonly #server: string
  readonly #arrived = new Map<string, IncomingTensor>()

  constructor(federation: string, server: string) {
    this.#federation = federation
    this.#server = server
  }

  admit(header: IncomingTensor['header'], from: string): string | undefined {
    if (from !== this.#server) return `a federated client takes tensors from its server only, not ${from}`
    if (header.job !== this.#federation) return `federation '${header.job}' is not this client's`
    if (parseFlEdge(header.edge)?.kind !== 'model') return `edge '${header.edge}' is not a model tensor`
    if (header.dtype !== 'float32' || header.codec !== 'raw') return 'a model tensor is raw float32'
    return undefined
  }

  put(msg: IncomingTensor): void {
    const edge = parseFlEdge(msg.header.edge)
    if (edge === undefined) return
    for (const key of this.#arrived.keys()) {
      if (Number(key.split('|')[0]) < msg.header.step) this.#arrived.delete(key) // an earlier round's
    }
    this.#arrived.set(`${msg.header.step}|${edge.tensor}`, msg)
  }

  /** The round's model as the server listed it; throws FlClientError when a tensor is missing or differs. */
  take(round: number, listed: readonly { name: string; shape: readonly number[] }[]): FlModel {
    const model = new Map<string, ReturnType<typeof tensor<'float32'>>>()
    for (const { name, shape } of listed) {
      const msg = this.#arrived.get(`${round}|${name}`)
      if (msg === undefined)
        throw new FlClientError(`the server listed '${name}' of round ${round} but never sent it`)
      if (msg.header.shape.join() !== shape.join())
        throw new FlClientError(`'${name}' came as [${msg.header.shape}], listed as [${shape}]`)
      const data = decodeTensor(msg.header, msg.payload).data as Float32Array
      model.set(name, tensor('float32', [...shape], data.slice()))
    }
    for (const key of [...this.#arrived.keys()]) if (key.startsWith(`${round}|`)) this.#arrived.delete(key)
    return model
  }
}

/** The peer id in a multiaddr (`…/p2p/<id>`); FlClientError when it has none. */
export function peerIdOf(address: Multiaddr): string {
  const id = address.getComponents().findLast((c) => c.name === 'p2p')?.value
  if (id === undefined)
    throw new FlClientError(`the server's address must end in /p2p/<peer id>, got '${address}'`)
  return id
}
