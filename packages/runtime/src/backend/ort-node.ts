/**
 * onnxruntime-node backends: `cpu`, `webgpu` (Dawn) and `cuda`. Node-only (native binding); the
 * browser's onnxruntime-web backends live in their own file with the same shape.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { type DType, DTYPES, type Tensor, tensor } from '@atoll/core'
import * as ort from 'onnxruntime-node'
import { SessionError } from '../errors.ts'
import {
  type Backend,
  type BackendSession,
  type Feed,
  isValue,
  type SessionModel,
  type SessionOptions,
  type Value,
} from './backend.ts'
import { PROBE_EXPECTED, PROBE_INPUT, probeModel } from './probe-model.ts'
import type { BackendProvider } from './registry.ts'

/** onnxruntime's fatal-only level: a probe that fails reports through its exception, not the log */
const QUIET_LOG = 4

type OrtProvider = 'cpu' | 'webgpu' | 'cuda'

/** The onnxruntime-node backends, GPU first so that `auto` prefers an accelerator. */
export function ortNodeProviders(): BackendProvider[] {
  return [
    { name: 'cuda', priority: 300, gpu: true, init: () => initOrt('cuda') },
    { name: 'webgpu', priority: 200, gpu: true, init: () => initOrt('webgpu') },
    { name: 'cpu', priority: 100, init: () => initOrt('cpu') },
  ]
}

async function initOrt(provider: OrtProvider): Promise<Backend> {
  if (provider === 'cuda') requireCudaLibraries()
  const backend: Backend = {
    name: provider,
    device: provider === 'cpu' ? 'cpu' : 'gpu',
    format: 'onnx',
    createSession: (model, options) => createOrtSession(provider, model, options),
  }
  // a probe run proves the provider initialises *and* computes (an adapter can exist and still fail)
  const probe = await createOrtSession(provider, { onnx: probeModel() }, { keepOnDevice: false }, QUIET_LOG)
  const out = await probe.run({ x: tensor('float32', [2], Float32Array.from(PROBE_INPUT)) })
  const y = Array.from((await out.y.read()).data as Float32Array)
  await probe.release()
  if (y.some((v, i) => v !== PROBE_EXPECTED[i])) {
    throw new SessionError(`${provider} probe computed [${y}] instead of [${PROBE_EXPECTED}]`)
  }
  return backend
}

/** CUDA needs provider libraries that the offline install leaves out; say so before ORT's own error. */
function requireCudaLibraries(): void {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node')
  const dir = join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch)
  const lib = join(dir, 'libonnxruntime_providers_cuda.so')
  if (!existsSync(lib)) {
    throw new SessionError(
      `CUDA provider libraries are not installed (${lib} is missing); install onnxruntime-node with --onnxruntime-node-install=cuda12 where its feed is reachable`,
    )
  }
}

async function createOrtSession(
  provider: OrtProvider,
  model: SessionModel,
  options: SessionOptions = {},
  logSeverityLevel: 0 | 1 | 2 | 3 | 4 = 2,
): Promise<BackendSession> {
  if (model.onnx === undefined)
    throw new SessionError(`the ${provider} backend needs the model as ONNX bytes`)
  const keep = provider === 'webgpu' && options.keepOnDevice !== false
  const session = await ort.InferenceSession.create(model.onnx, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    logSeverityLevel,
    ...(options.intraOpThreads !== undefined ? { intraOpNumThreads: options.intraOpThreads } : {}),
    ...(keep ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
    // a pipeline alternates several sessions, each with its own thread pool: pools that spin while
    // idle steal the cores of the one running (measured: 4 stages 2.44× → 1.38× the monolithic step)
    ...(options.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  }).catch((err: Error) => {
    throw new SessionError(`${provider}: cannot create a session: ${err.message}`)
  })
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, fetches) {
      const ortFeeds: Record<string, ort.Tensor> = {}
      for (const [name, feed] of Object.entries(feeds)) ortFeeds[name] = toOrt(feed)
      const out = await (fetches ? session.run(ortFeeds, [...fetches]) : session.run(ortFeeds)).catch(
        (err: Error) => {
          throw new SessionError(`${provider}: run failed: ${err.message}`)
        },
      )
      const values: Record<string, Value> = {}
      for (const [name, t] of Object.entries(out)) values[name] = new OrtValue(t)
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

  constructor(t: ort.Tensor) {
    if (!(DTYPES as readonly string[]).includes(t.type))
      throw new SessionError(`unsupported output dtype ${t.type}`)
    this.ortTensor = t
    this.dtype = t.type as DType
    this.shape = t.dims
    this.location = t.location === 'cpu' ? 'cpu' : 'gpu'
  }

  async read(): Promise<Tensor> {
    const data = this.location === 'cpu' ? this.ortTensor.data : await this.ortTensor.getData()
    return tensor(this.dtype, this.shape, data as Tensor['data'])
  }

  dispose(): void {
    this.ortTensor.dispose()
  }
}

/** A host tensor is wrapped, not copied: onnxruntime-node reads the typed array in place. */
function toOrt(feed: Feed): ort.Tensor {
  if (isValue(feed)) {
    if (feed instanceof OrtValue) return feed.ortTensor
    throw new SessionError('a value from another backend cannot be fed to onnxruntime; read() it first')
  }
  return new ort.Tensor(feed.dtype, feed.data, feed.shape)
}
