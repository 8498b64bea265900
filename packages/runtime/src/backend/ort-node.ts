/**
 * onnxruntime-node backends: `cpu`, `webgpu` (Dawn) and `cuda`. Node-only (native binding); the
 * browser's onnxruntime-web backends live in their own file with the same shape.
 */
import { type DType, DTYPES, exportOnnx, type Tensor, tensor } from '@atoll/core'
import { statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import * as ort from 'onnxruntime-node'
import { SessionError } from '../errors.ts'
import {
  type Backend,
  type BackendSession,
  type Feed,
  gpuOutputLocations,
  isValue,
  type SessionModel,
  type SessionOptions,
  type Value,
} from './backend.ts'
import { OrtThread } from './ort-thread.ts'
import { loadCudaLibraries } from './cuda-libraries.ts'
import { cudaPresence, webgpuPresence } from './presence.ts'
import { PROBE_EXPECTED, PROBE_INPUT, probeModel } from './probe-model.ts'
import type { BackendProvider } from './registry.ts'

/** onnxruntime's fatal-only level: a probe that fails reports through its exception, not the log */
const QUIET_LOG = 4

type OrtProvider = 'cpu' | 'webgpu' | 'cuda'

/**
 * The onnxruntime-node backends, GPU first so that `auto` prefers an accelerator; a GPU backend is
 * started only where its device is present.
 */
export function ortNodeProviders(): BackendProvider[] {
  return [
    { name: 'cuda', priority: 300, gpu: true, presence: () => cudaPresence(), init: () => initOrt('cuda') },
    {
      name: 'webgpu',
      priority: 200,
      gpu: true,
      presence: () => webgpuPresence(),
      init: () => initOrt('webgpu'),
    },
    { name: 'cpu', priority: 100, init: () => initOrt('cpu') },
  ]
}

async function initOrt(provider: OrtProvider): Promise<Backend> {
  // the provider links against CUDA libraries that may sit in no folder the linker searches
  if (provider === 'cuda') loadCudaLibraries()
  const copies = new DeviceCopies(provider)
  // CPU sessions run on their own thread (ort-thread.ts); GPU ones keep outputs in device buffers,
  // which belong to the thread that made them
  const thread = provider === 'cpu' ? new OrtThread() : undefined
  const backend: Backend = {
    name: provider,
    device: provider === 'cpu' ? 'cpu' : 'gpu',
    format: 'onnx',
    createSession: (model, options) => createOrtSession(provider, copies, model, options, 2, thread),
    ...(provider === 'webgpu' ? { toDevice: (tensors) => copies.toDevice(tensors) } : {}),
  }
  // a probe run proves the provider initialises *and* computes (an adapter can exist and still fail)
  const probe = await createOrtSession(
    provider,
    copies,
    { onnx: probeModel() },
    { keepOnDevice: false },
    QUIET_LOG,
    thread,
  )
  const out = await probe.run({ x: tensor('float32', [2], Float32Array.from(PROBE_INPUT)) })
  const y = Array.from((await out.y.read()).data as Float32Array)
  await probe.release()
  if (y.some((v, i) => v !== PROBE_EXPECTED[i])) {
    throw new SessionError(`${provider} probe computed [${y}] instead of [${PROBE_EXPECTED}]`)
  }
  return backend
}

async function createOrtSession(
  provider: OrtProvider,
  copies: DeviceCopies,
  model: SessionModel,
  options: SessionOptions = {},
  logSeverityLevel: 0 | 1 | 2 | 3 | 4 = 2,
  thread?: OrtThread,
): Promise<BackendSession> {
  if (model.onnx === undefined)
    throw new SessionError(`the ${provider} backend needs the model as ONNX bytes`)
  const keep = provider === 'webgpu' && options.keepOnDevice !== false
  const ortOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    logSeverityLevel,
    ...profiling(process.env.ATOLL_ORT_PROFILE),
    ...(options.intraOpThreads !== undefined ? { intraOpNumThreads: options.intraOpThreads } : {}),
    ...(keep ? { preferredOutputLocation: gpuOutputLocations(options.deviceOutputs) } : {}),
    // a pipeline alternates several sessions, each with its own thread pool: pools that spin while
    // idle steal the cores of the one running (measured: 4 stages 2.44× → 1.38× the monolithic step)
    ...(options.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  }
  const created = thread
    ? thread.createSession(model.onnx, ortOptions)
    : ort.InferenceSession.create(model.onnx, ortOptions).then((session) => onThisThread(session, copies))
  const session = await created.catch((err: Error) => {
    throw new SessionError(`${provider}: cannot create a session: ${err.message}`)
  })
  const failed = (err: Error) => {
    throw new SessionError(`${provider}: run failed: ${err.message}`)
  }
  const { runAdding } = session
  return {
    ...session,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    run: (feeds, fetches) => session.run(feeds, fetches).catch(failed),
    runAdding: runAdding && ((feeds, fetches, into) => runAdding(feeds, fetches, into).catch(failed)),
  }
}

/**
 * ATOLL_ORT_PROFILE=<path prefix>: onnxruntime writes each session's profile (JSON) on release. It
 * writes nothing, and says nothing, into a folder that does not exist: refused here by name.
 */
function profiling(prefix: string | undefined): ort.InferenceSession.SessionOptions {
  if (!prefix) return {}
  if (!statSync(dirname(resolve(prefix)), { throwIfNoEntry: false })?.isDirectory())
    throw new SessionError(
      `ATOLL_ORT_PROFILE is '${prefix}': its folder ${dirname(resolve(prefix))} does not exist`,
    )
  return { enableProfiling: true, profileFilePrefix: prefix }
}

/** A session run by this thread: GPU outputs stay in device buffers until read. */
function onThisThread(session: ort.InferenceSession, copies: DeviceCopies): BackendSession {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, fetches) {
      const ortFeeds: Record<string, ort.Tensor> = {}
      for (const [name, feed] of Object.entries(feeds)) ortFeeds[name] = toOrt(feed)
      const out = await (fetches ? session.run(ortFeeds, [...fetches]) : session.run(ortFeeds))
      const values: Record<string, Value> = {}
      for (const [name, t] of Object.entries(out)) values[name] = new OrtValue(t, copies)
      return values
    },
    release: () => session.release(),
  }
}

/** An onnxruntime tensor as a Value; on WebGPU it stays in a GPU buffer until read. */
class OrtValue implements Value {
  readonly dtype: DType
  readonly shape: readonly number[]
  readonly location: 'cpu' | 'gpu'
  readonly ortTensor: ort.Tensor
  readonly #copies: DeviceCopies

  constructor(t: ort.Tensor, copies: DeviceCopies) {
    if (!(DTYPES as readonly string[]).includes(t.type))
      throw new SessionError(`unsupported output dtype ${t.type}`)
    this.ortTensor = t
    this.#copies = copies
    this.dtype = t.type as DType
    this.shape = t.dims
    this.location = t.location === 'cpu' ? 'cpu' : 'gpu'
  }

  async read(): Promise<Tensor> {
    const host = this.location === 'cpu' ? this.ortTensor : await this.#copies.toHost(this.ortTensor)
    return tensor(this.dtype, this.shape, host.data as Tensor['data'])
  }

  dispose(): void {
    this.ortTensor.dispose()
  }
}

/**
 * Moves values between host and GPU memory with Identity sessions: onnxruntime-node cannot
 * download a GPU buffer by itself (its `getData` is not implemented), but a session whose output
 * lives on the host copies it back. Uploads of a set of tensors (a stage's weights) run as one
 * session of one Identity per tensor, compiled once per set of dtypes and ranks.
 */
class DeviceCopies {
  readonly #provider: OrtProvider
  readonly #sessions = new Map<string, Promise<ort.InferenceSession>>()

  constructor(provider: OrtProvider) {
    this.#provider = provider
  }

  async toHost(t: ort.Tensor): Promise<ort.Tensor> {
    const session = await this.#session([t.type as DType], [t.dims.length], 'cpu')
    return (await session.run({ x0: t })).y0
  }

  async toDevice(tensors: Readonly<Record<string, Tensor>>): Promise<Record<string, Value>> {
    const entries = Object.entries(tensors)
    if (entries.length === 0) return {}
    const session = await this.#session(
      entries.map(([, t]) => t.dtype),
      entries.map(([, t]) => t.shape.length),
      'gpu-buffer',
    )
    const feeds: Record<string, ort.Tensor> = {}
    entries.forEach(([, t], i) => {
      feeds[`x${i}`] = toOrt(t)
    })
    const out = await session.run(feeds)
    return Object.fromEntries(entries.map(([name], i) => [name, new OrtValue(out[`y${i}`], this)]))
  }

  #session(dtypes: DType[], ranks: number[], location: 'cpu' | 'gpu-buffer'): Promise<ort.InferenceSession> {
    const key = `${location}:${dtypes.map((d, i) => `${d}/${ranks[i]}`).join(',')}`
    let session = this.#sessions.get(key)
    if (session === undefined) {
      session = ort.InferenceSession.create(identityModel(dtypes, ranks), {
        executionProviders: [this.#provider],
        preferredOutputLocation: location,
        logSeverityLevel: QUIET_LOG,
      })
      this.#sessions.set(key, session)
      session.catch(() => this.#sessions.delete(key))
    }
    return session
  }
}

/** `y<i> = Identity(x<i>)` for each dtype, with symbolic shapes of the given ranks. */
function identityModel(dtypes: DType[], ranks: number[]): Uint8Array {
  const value = (name: string, i: number) => ({
    name: `${name}${i}`,
    dtype: dtypes[i],
    shape: Array.from({ length: ranks[i] }, (_, k) => `d${i}_${k}`),
  })
  return exportOnnx({
    name: 'copy',
    nodes: dtypes.map((_, i) => ({
      name: `copy${i}`,
      opType: 'Identity',
      inputs: [`x${i}`],
      outputs: [`y${i}`],
      attributes: {},
      scope: '',
    })),
    inputs: dtypes.map((_, i) => value('x', i)),
    outputs: dtypes.map((_, i) => value('y', i)),
    initializers: new Map(),
    parameters: new Set(),
    valueInfo: new Map(),
    opset: 18,
  })
}

/** A host tensor is wrapped, not copied: onnxruntime-node reads the typed array in place. */
function toOrt(feed: Feed): ort.Tensor {
  if (isValue(feed)) {
    if (feed instanceof OrtValue) return feed.ortTensor
    if (feed.host !== undefined) return new ort.Tensor(feed.host.dtype, feed.host.data, feed.host.shape)
    throw new SessionError('a value from another backend cannot be fed to onnxruntime; read() it first')
  }
  return new ort.Tensor(feed.dtype, feed.data, feed.shape)
}
