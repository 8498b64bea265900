import type { DType, Graph, Tensor } from '@atoll/core'

/**
 * The backend contract, free of any runtime dependency so that Node (onnxruntime-node), browser
 * (onnxruntime-web) and the pure-TS reference backend implement the same interface and shared code
 * imports no native module (onnxruntime's js/ layout).
 */
export interface Backend {
  /** registry name: `cpu`, `webgpu`, `cuda`, `reference`, … */
  readonly name: string
  /** where session outputs live when kept on the device */
  readonly device: 'cpu' | 'gpu'
  /** what `createSession` reads: serialised ONNX, or the Graph itself (reference interpreter) */
  readonly format: 'onnx' | 'graph'
  /** compiles `model` once; run it many times */
  createSession(model: SessionModel, options?: SessionOptions): Promise<BackendSession>
  /**
   * GPU backends: copies host tensors into device memory once, to be fed to many runs (a step's
   * parameters, read by every micro-batch's forward and backward)
   */
  toDevice?(tensors: Readonly<Record<string, Tensor>>): Promise<Record<string, Value>>
}

/**
 * What a session is built from. ONNX backends take `onnx` (serialised once by the caller, e.g. with
 * core's exporter); the reference backend interprets `graph` directly.
 */
export interface SessionModel {
  graph?: Graph
  onnx?: Uint8Array
}

export interface SessionOptions {
  /** keep outputs in device memory between runs (WebGPU/CUDA); read them with `value.read()` (default true on GPU) */
  keepOnDevice?: boolean
  /**
   * with keepOnDevice, the outputs that stay on the device (what feeds another run: activations,
   * boundary gradients); the others (a loss, parameter gradients) come back in host memory within
   * the run. Default: every output stays.
   */
  deviceOutputs?: readonly string[]
  /** threads for one operator (default: onnxruntime's choice) */
  intraOpThreads?: number
  /**
   * let idle worker threads spin (default false): lowers the latency of a lone session, but several
   * sessions run in turn (pipeline stages) then fight over the cores
   */
  spinning?: boolean
}

/** A value a session produced: on the host (data available) or on the device (read to copy back). */
export interface Value {
  readonly dtype: DType
  readonly shape: readonly number[]
  readonly location: 'cpu' | 'gpu'
  /** the tensor, when the value already is one in host memory (any backend can feed it as it is) */
  readonly host?: Tensor
  /** the host tensor; for a device value this downloads it */
  read(): Promise<Tensor>
  /** frees device memory now rather than at garbage collection */
  dispose(): void
}

/** A feed: a host tensor (viewed, not copied) or a value another session left on the device. */
export type Feed = Tensor | Value

export interface BackendSession {
  readonly inputNames: readonly string[]
  readonly outputNames: readonly string[]
  /** runs once; `fetches` narrows the outputs (default all) */
  run(feeds: Readonly<Record<string, Feed>>, fetches?: readonly string[]): Promise<Record<string, Value>>
  /**
   * Runs once and adds each output named in `into` into its array (float32, the same element count)
   * on the session's own thread, returning only the other outputs: those outputs never reach the
   * caller's thread, so it allocates nothing for them (a step's parameter gradients, whose fresh
   * buffers made the caller's heap collect about once a step). The arrays must be in shared memory,
   * and the caller must not touch them until the run resolves. Only sessions on another thread
   * have it.
   */
  runAdding?(
    feeds: Readonly<Record<string, Feed>>,
    fetches: readonly string[] | undefined,
    into: Readonly<Record<string, Float32Array>>,
  ): Promise<Record<string, Value>>
  release(): Promise<void>
}

/** A host tensor as a Value (reference backend, and CPU outputs). */
export function hostValue(tensor: Tensor): Value {
  return {
    dtype: tensor.dtype,
    shape: tensor.shape,
    location: 'cpu',
    host: tensor,
    read: async () => tensor,
    dispose: () => {},
  }
}

export function isValue(feed: Feed): feed is Value {
  return typeof (feed as Value).read === 'function'
}

/**
 * onnxruntime's preferredOutputLocation for a session whose outputs stay on the GPU: every output,
 * or only those named (the rest come back to the host). Both onnxruntime-node and -web take it.
 */
export function gpuOutputLocations(deviceOutputs: readonly string[] | undefined) {
  if (deviceOutputs === undefined) return 'gpu-buffer' as const
  return Object.fromEntries(deviceOutputs.map((name) => [name, 'gpu-buffer' as const]))
}
