/**
 * Fetches a large, content-addressed file (onnxruntime-web's wasm runtime) once and keeps it in the
 * browser's Cache Storage, so later visits load it from disk. Vite names the file by its hash, so an
 * entry never goes stale; entries of other builds are dropped when a new one is stored.
 */
import { WASM_CACHE } from './constants.ts'
import { WasmFetchError } from './errors.ts'

export interface CachedFile {
  bytes: ArrayBuffer
  /** whether it came from Cache Storage rather than the network */
  fromCache: boolean
}

export async function fetchCached(url: string, cacheName: string = WASM_CACHE): Promise<CachedFile> {
  // Cache Storage exists only in secure contexts (https, or localhost)
  const storage = (globalThis as { caches?: CacheStorage }).caches
  const cache = storage === undefined ? undefined : await storage.open(cacheName)
  const hit = await cache?.match(url)
  if (hit !== undefined) return { bytes: await hit.arrayBuffer(), fromCache: true }
  const response = await fetch(url).catch((err: Error) => {
    throw new WasmFetchError(`cannot fetch ${url}: ${err.message}`)
  })
  if (!response.ok)
    throw new WasmFetchError(`fetching ${url} answered ${response.status} ${response.statusText}`)
  const bytes = await response.arrayBuffer()
  if (cache !== undefined) {
    for (const old of await cache.keys()) await cache.delete(old)
    await cache.put(url, new Response(bytes, { headers: { 'Content-Type': 'application/wasm' } }))
  }
  return { bytes, fromCache: false }
}
