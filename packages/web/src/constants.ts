/** Defaults of the browser client, each with its reason. */

/**
 * The bundled sample shard: the first `count` images of the Fashion-MNIST training split in the
 * order of a permutation seeded with `seed`. 1024 images are 0.8 MB, enough for a few dozen local
 * steps of 32 without repeating an image within an epoch.
 */
export const SAMPLE_SHARD = { dataset: 'fashion-mnist', count: 1024, seed: 14 } as const

/** Where the page finds the shard, relative to its own address. */
export const SAMPLE_SHARD_PATH = 'data/fashion-mnist-sample.safetensors'

/** What the page trains when its address says nothing else. */
export const PAGE_DEFAULTS = {
  model: 'mlp',
  steps: 20,
  batch: 32,
  lr: 0.05,
  seed: 0,
  backend: 'auto',
} as const

/**
 * The Cache Storage bucket holding onnxruntime-web's wasm runtime (about 14 MB to 25 MB, too much to
 * fetch again on every visit). Entries are keyed by the bundle's hashed URL, so a new build is a miss.
 */
export const WASM_CACHE = 'atoll-ort-wasm'

/**
 * What makes a page cross-origin isolated, so that it may share memory between threads
 * (SharedArrayBuffer): onnxruntime-web's wasm runs one thread without them. Every response of the
 * page's origin carries them (the Vite dev server's too).
 */
export const CROSS_ORIGIN_ISOLATION: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
}
