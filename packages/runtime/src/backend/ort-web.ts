/**
 * onnxruntime-web backends: `webgpu` (where the browser has a GPU adapter) and `wasm` (CPU, SIMD,
 * threads when the page is cross-origin isolated). The browser's counterpart of ort-node.ts, with
 * the same shape. The caller hands in the onnxruntime-web build it loaded and says where its wasm
 * runtime comes from (a bundle's URLs, bytes from a cache): `onnxruntime-web/wasm` fetches 14 MB,
 * the full build with WebGPU 28 MB, so a page loads the second only where there is a GPU, and this
 * file knows nothing of bundlers.
 */
import { type DType, DTYPES, type Tensor, tensor } from '@atoll/core'
import type * as ort from 'onnxruntime-web'
import { SessionError } from '../errors.ts'
import type { Backend, BackendSession, Feed, SessionModel, SessionOptions, Value } from './backend.ts'
import { gpuOutputLocations, isValue } from './backend.ts'
import type { DevicePresence } from './presence.ts'
import { PROBE_EXPECTED, PROBE_INPUT, probeModel } from './probe-model.ts'
import { referenceProvider } from './reference.ts'
import { type BackendProvider, BackendRegistry } from './registry.ts'

type WebProvider = 'wasm' | 'webgpu'

/** An onnxruntime-web build: `import('onnxruntime-web')` (wasm and WebGPU) or `import('onnxruntime-web/wasm')`. */
export type OrtWeb = typeof ort

export interface OrtWebOptions {
  ort: OrtWeb
  /** the wasm runtime's bytes (e.g. from a cache): nothing is fetched for it then */
  wasmBinary?: ArrayBuffer | Uint8Array
  /** where onnxruntime-web finds its .wasm (and .mjs) files: a URL prefix or one URL per file */
  wasmPaths?: ort.Env.WasmPrefixOrFilePaths
  /** wasm threads (default onnxruntime-web's: half the cores, at most 4; 1 unless cross-origin isolated) */
  threads?: number
}

/** The onnxruntime-web backends, WebGPU first so that `auto` prefers the GPU where there is one. */
export function ortWebProviders(options: OrtWebOptions): BackendProvider[] {
  return [
    {
      name: 'webgpu',
      priority: 200,
      gpu: true,
      presence: webgpuInPage,
      init: () => initOrtWeb('webgpu', options),
    },
    { name: 'wasm', priority: 100, init: () => initOrtWeb('wasm', options) },
  ]
}

/** The registry a browser page uses: onnxruntime-web's webgpu and wasm, and the reference interpreter (explicit only). */
export function webBackends(options: OrtWebOptions): BackendRegistry {
  const registry = new BackendRegistry()
  for (const provider of ortWebProviders(options)) registry.register(provider)
  registry.register(referenceProvider)
  return registry
}

/** WebGPU is there when the page has `navigator.gpu`; whether an adapter answers, init finds out. */
function webgpuInPage(): DevicePresence {
  const gpu = (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu
  return gpu === undefined
    ? { status: 'absent', missing: 'navigator.gpu (this browser has no WebGPU)' }
    : { status: 'ready', found: ['navigator.gpu'] }
}

/**
 * onnxruntime-web's settings are global and read when its first session starts: the first backend
 * to start sets them, and later calls must not contradict it.
 */
function configure(options: OrtWebOptions): void {
  const wasm = options.ort.env.wasm
  if (options.wasmBinary !== undefined) wasm.wasmBinary = options.wasmBinary
  if (options.wasmPaths !== undefined) wasm.wasmPaths = options.wasmPaths
  if (options.threads !== undefined) wasm.numThreads = options.threads
}

async function initOrtWeb(provider: WebProvider, options: OrtWebOptions): Promise<Backend> {
  configure(options)
  const backend: Backend = {
    name: provider,
    device: provider === 'wasm' ? 'cpu' : 'gpu',
    format: 'onnx',
    createSession: (model, sessionOptions) => createWebSession(options.ort, provider, model, sessionOptions),
  }
  // a probe run proves the provider initialises *and* computes (an adapter can exist and still fail)
  const probe = await createWebSession(options.ort, provider, { onnx: probeModel() }, { keepOnDevice: false })
  const out = await probe.run({ x: tensor('float32', [2], Float32Array.from(PROBE_INPUT)) })
  const y = Array.from((await out.y.read()).data as Float32Array)
  await probe.release()
  if (y.some((v, i) => v !== PROBE_EXPECTED[i]))
    throw new SessionError(`${provider} probe computed [${y}] instead of [${PROBE_EXPECTED}]`)
  return backend
}

async function createWebSession(
  runtime: OrtWeb,
  provider: WebProvider,
  model: SessionModel,
  options: SessionOptions = {},
): Promise<BackendSession> {
  if (model.onnx === undefined)
    throw new SessionError(`the ${provider} backend needs the model as ONNX bytes`)
  const keep = provider === 'webgpu' && options.keepOnDevice !== false
  const session = await runtime.InferenceSession.create(model.onnx, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    ...(keep ? { preferredOutputLocation: gpuOutputLocations(options.deviceOutputs) } : {}),
  }).catch((err: Error) => {
    throw new SessionError(`${provider}: cannot create a session: ${err.message}`)
  })
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, fetches) {
      const ortFeeds: Record<string, ort.Tensor> = {}
      for (const [name, feed] of Object.entries(feeds)) ortFeeds[name] = toOrt(runtime, feed)
      const out = await (fetches ? session.run(ortFeeds, [...fetches]) : session.run(ortFeeds)).catch(
        (err: Error) => {
          throw new SessionError(`${provider}: run failed: ${err.message}`)
        },
      )
      const values: Record<string, Value> = {}
      for (const [name, t] of Object.entries(out)) values[name] = new WebValue(t)
      return values
    },
    release: () => session.release(),
  }
}

/** An onnxruntime-web tensor as a Value; on WebGPU it stays in a GPU buffer until read. */
class WebValue implements Value {
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
    // getData downloads a GPU buffer (onnxruntime-web, unlike onnxruntime-node, implements it)
    const data = this.location === 'cpu' ? this.ortTensor.data : await this.ortTensor.getData()
    return tensor(this.dtype, this.shape, data as Tensor['data'])
  }

  dispose(): void {
    this.ortTensor.dispose()
  }
}

/** A host tensor is wrapped, not copied; int64 data is already a BigInt64Array, as onnxruntime-web wants. */
function toOrt(runtime: OrtWeb, feed: Feed): ort.Tensor {
  if (isValue(feed)) {
    if (feed instanceof WebValue) return feed.ortTensor
    if (feed.host !== undefined) return new runtime.Tensor(feed.host.dtype, feed.host.data, feed.host.shape)
    throw new SessionError('a value from another backend cannot be fed to onnxruntime-web; read() it first')
  }
  return new runtime.Tensor(feed.dtype, feed.data, feed.shape)
}
