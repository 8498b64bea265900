/**
 * @atoll/web in a browser (package.json's `browser` condition): what the page is made of, for pages
 * and scripts that train the way it does — its options from an address, the sample shard, local
 * training on a shard (runtime's local trainer on onnxruntime-web), onnxruntime-web's runtime loaded
 * through Cache Storage, images the user picks, and a federated client in the tab (libp2p over
 * WebSockets to an `atoll fl serve` server) with the server's status beside it.
 *
 * @example
 * ```ts
 * import { webBackends } from '@atoll/runtime'
 * import { loadOrtRuntime, loadSampleShard, trainOnShard } from '@atoll/web'
 * const runtime = await loadOrtRuntime(true) // WebGPU build where there is an adapter, else wasm-only
 * const backend = await webBackends({ ort: runtime.ort, wasmBinary: runtime.wasmBinary }).resolve('auto')
 * const images = await loadSampleShard('data/fashion-mnist-sample.safetensors')
 * const { delta, losses } = await trainOnShard({ backend, images, model: 'mlp', steps: 20, batch: 32, lr: 0.05, seed: 0 })
 * ```
 */
export { CROSS_ORIGIN_ISOLATION, PAGE_DEFAULTS, SAMPLE_SHARD, SAMPLE_SHARD_PATH } from './constants.ts'
export {
  BoardError,
  PageOptionsError,
  PickedImagesError,
  SampleShardError,
  ServerUnreachableError,
  WasmFetchError,
  WebBuildError,
} from './errors.ts'
export { loadOrtRuntime, type OrtRuntime } from './ort-runtime.ts'
export { BOARD_PATH, fetchBoard, joinAddressesFor } from './board.ts'
export { joinFromPage, type PageClientEvent, type PageClientInit } from './federated-client.ts'
export { followEvent } from './federated-state.ts'
export {
  FASHION_MNIST_CLASSES,
  greyLevels,
  labelOf,
  MAX_PICKED_FILES,
  pickedImages,
} from './picked-images.ts'
export { PAGE_BACKENDS, PAGE_MODELS, type PageOptions, pageOptions } from './page-options.ts'
export type {
  FederatedPhase,
  FederatedRound,
  FederatedState,
  PageState,
  PageStatus,
  StepRecord,
} from './page-state.ts'
export { decodeSampleShard, encodeSampleShard, loadSampleShard } from './sample-shard.ts'
export { type ShardTrainingOptions, trainOnShard } from './shard-training.ts'
export { type CachedFile, fetchCached } from './wasm-cache.ts'
