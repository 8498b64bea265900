/**
 * onnxruntime CPU sessions on a worker thread. onnxruntime-node runs a session synchronously on the
 * calling thread (its `run` only defers the call with setImmediate), so a peer computing a 2-second
 * step could not answer the mesh meanwhile: no chunk of an all-reduce, no pipeline activation, no
 * ping moved while it computed, and nothing overlapped with compute. Here the calling thread only
 * copies feeds out (or shares them, when they live in a SharedArrayBuffer: the caller must not write
 * them until the run resolves) and takes outputs back (transferred, not copied); sessions of one
 * backend run one at a time on its thread, as they did on the caller's.
 */
import { Worker } from 'node:worker_threads'
import { type DType, DTYPES, type StorageOf, tensor } from '@atoll/core'
import type * as ort from 'onnxruntime-node'
import { SessionError } from '../errors.ts'
import { type BackendSession, type Feed, hostValue, isValue, type Value } from './backend.ts'

/** A tensor as it crosses between the threads (its buffer transferred). */
export interface WireTensor {
  dtype: DType
  shape: number[]
  data: StorageOf[DType]
}

export type ThreadRequest =
  | {
      id: number
      kind: 'create'
      session: number
      onnx: Uint8Array
      options: ort.InferenceSession.SessionOptions
    }
  | {
      id: number
      kind: 'run'
      session: number
      feeds: Record<string, WireTensor>
      fetches?: string[]
      /** outputs the worker adds into these arrays (shared memory) instead of sending back */
      addInto?: Record<string, Float32Array>
    }
  | { id: number; kind: 'release'; session: number }

export type ThreadReply = {
  id: number
  error?: string
  inputNames?: readonly string[]
  outputNames?: readonly string[]
  outputs?: Record<string, WireTensor>
}

type Pending = { resolve: (reply: ThreadReply) => void; reject: (err: Error) => void }

/** One worker thread and the sessions it owns. */
export class OrtThread {
  readonly #worker: Worker
  readonly #pending = new Map<number, Pending>()
  #next = 0
  #sessions = 0
  #failure: Error | undefined

  constructor() {
    this.#worker = new Worker(new URL('./ort-thread-worker.ts', import.meta.url))
    this.#worker.unref() // an idle thread never keeps the process alive; a pending call refs it
    this.#worker.on('message', (reply: ThreadReply) => this.#settle(reply))
    this.#worker.on('error', (err) =>
      this.#fail(new SessionError(`onnxruntime thread failed: ${err.message}`)),
    )
    this.#worker.on('exit', (code) =>
      this.#fail(new SessionError(`onnxruntime thread exited (code ${code})`)),
    )
  }

  async createSession(
    onnx: Uint8Array,
    options: ort.InferenceSession.SessionOptions,
  ): Promise<BackendSession> {
    const session = this.#sessions++
    const created = await this.#call({ kind: 'create', session, onnx, options })
    return {
      inputNames: created.inputNames ?? [],
      outputNames: created.outputNames ?? [],
      run: (feeds, fetches) => this.#run(session, feeds, fetches),
      runAdding: async (feeds, fetches, into) => {
        for (const [name, array] of Object.entries(into))
          if (!(array.buffer instanceof SharedArrayBuffer))
            throw new SessionError(`output '${name}': the array to add it into is not in shared memory`)
        return this.#run(session, feeds, fetches, into)
      },
      release: async () => {
        await this.#call({ kind: 'release', session })
      },
    }
  }

  /** Ends the thread (sessions with it); calls still pending fail. */
  async close(): Promise<void> {
    await this.#worker.terminate()
  }

  async #run(
    session: number,
    feeds: Readonly<Record<string, Feed>>,
    fetches: readonly string[] | undefined,
    addInto?: Readonly<Record<string, Float32Array>>,
  ): Promise<Record<string, Value>> {
    const wire: Record<string, WireTensor> = {}
    const transfer: ArrayBuffer[] = []
    for (const [name, feed] of Object.entries(feeds)) {
      const host = isValue(feed) ? feed.host : feed
      if (host === undefined)
        throw new SessionError(`feed '${name}': a value on another device cannot be fed to a CPU session`)
      // shared memory is read in place (a job's parameters: 4 bytes each, twice a step, not copied);
      // anything else is copied, exactly the tensor's elements, since the caller keeps its own
      if (host.data.buffer instanceof SharedArrayBuffer) {
        wire[name] = { dtype: host.dtype, shape: [...host.shape], data: host.data }
        continue
      }
      const data = host.data.slice()
      wire[name] = { dtype: host.dtype, shape: [...host.shape], data }
      transfer.push(data.buffer as ArrayBuffer)
    }
    const reply = await this.#call(
      {
        kind: 'run',
        session,
        feeds: wire,
        fetches: fetches && [...fetches],
        addInto: addInto && { ...addInto },
      },
      transfer,
    )
    const values: Record<string, Value> = {}
    for (const [name, t] of Object.entries(reply.outputs ?? {})) {
      if (!DTYPES.includes(t.dtype)) throw new SessionError(`unsupported output dtype ${t.dtype}`)
      values[name] = hostValue(tensor(t.dtype, t.shape, t.data))
    }
    return values
  }

  #call(request: DistributiveOmit<ThreadRequest, 'id'>, transfer: ArrayBuffer[] = []): Promise<ThreadReply> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    const id = this.#next++
    const { promise, resolve, reject } = Promise.withResolvers<ThreadReply>()
    if (this.#pending.size === 0) this.#worker.ref()
    this.#pending.set(id, { resolve, reject })
    this.#worker.postMessage({ ...request, id }, transfer)
    return promise
  }

  #settle(reply: ThreadReply): void {
    const pending = this.#pending.get(reply.id)
    if (pending === undefined) return
    this.#pending.delete(reply.id)
    if (this.#pending.size === 0) this.#worker.unref()
    if (reply.error !== undefined) pending.reject(new SessionError(reply.error))
    else pending.resolve(reply)
  }

  #fail(err: Error): void {
    this.#failure ??= err
    for (const pending of this.#pending.values()) pending.reject(err)
    this.#pending.clear()
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never
