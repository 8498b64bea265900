/// <reference types="vite/client" />
/**
 * Loads onnxruntime-web for the page: the full build (wasm and WebGPU, a 28 MB runtime) where the
 * browser has a GPU adapter and the page may use it, else the wasm-only build (14 MB). Vite emits
 * both runtimes as hashed files of the bundle (`?url`); the chosen one is read through Cache Storage
 * and handed to onnxruntime-web as bytes, so a second visit downloads nothing.
 *
 * onnxruntime-web's own modules are emitted as they are (`?url`) and imported at run time, not
 * bundled: its wasm threads are workers that load the module they come from, and bundled, that
 * module imported a helper from the page's chunk (rolldown's require shim, which libp2p's CommonJS
 * dependencies bring), so every thread ran the page itself, where a worker has no document.
 */
import type { OrtWeb } from '@atoll/runtime'
import fullWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url'
import wasmOnlyUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url'
import fullModuleUrl from 'onnxruntime-web?url'
import wasmOnlyModuleUrl from 'onnxruntime-web/wasm?url'
import { fetchCached } from './wasm-cache.ts'

export interface OrtRuntime {
  ort: OrtWeb
  /** which build: `webgpu` (wasm and WebGPU) or `wasm` */
  build: 'webgpu' | 'wasm'
  wasmBinary: ArrayBuffer
  /** the runtime came from Cache Storage, not the network */
  fromCache: boolean
}

export async function loadOrtRuntime(allowGpu: boolean): Promise<OrtRuntime> {
  const gpu = allowGpu && (await hasGpuAdapter())
  // the page's bundle holds neither build, and loads only the one it needs
  const ort = (await import(/* @vite-ignore */ gpu ? fullModuleUrl : wasmOnlyModuleUrl)) as OrtWeb
  const { bytes, fromCache } = await fetchCached(gpu ? fullWasmUrl : wasmOnlyUrl)
  return { ort, build: gpu ? 'webgpu' : 'wasm', wasmBinary: bytes, fromCache }
}

/** navigator.gpu alone is not enough: headless or blocklisted browsers have it and no adapter. */
async function hasGpuAdapter(): Promise<boolean> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu
  if (gpu === undefined) return false
  try {
    return (await gpu.requestAdapter()) !== null
  } catch {
    return false
  }
}
