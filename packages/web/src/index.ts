/**
 * @atoll/web on Node: what serves the browser client rather than runs it — the page's Vite build
 * (made when missing or stale), an HTTP server that serves it cross-origin isolated, and the sample
 * shard's bytes. The page's own code is index.browser.ts (package.json's `browser` condition).
 *
 * @example
 * ```ts
 * import { ensureWebClient, serveWebClient } from '@atoll/web'
 * await ensureWebClient({ log: console.error }) // vite build, unless dist/ is current
 * const server = await serveWebClient({ port: 8080 })
 * console.log(`open ${server.url}?autostart=1`)
 * ```
 */
export { ensureWebClient, WEB_CLIENT_DIR, WEB_PACKAGE_DIR, webClientIsCurrent } from './build.ts'
export { CHROMIUM, ensureChromium, launchChromium } from './chromium.ts'
export { CROSS_ORIGIN_ISOLATION, PAGE_DEFAULTS, SAMPLE_SHARD, SAMPLE_SHARD_PATH } from './constants.ts'
export {
  ChromiumError,
  BoardError,
  PageOptionsError,
  PickedImagesError,
  SampleShardError,
  ServerUnreachableError,
  WasmFetchError,
  WebBuildError,
} from './errors.ts'
export { FASHION_MNIST_CLASSES } from './picked-images.ts'
export { PAGE_BACKENDS, PAGE_MODELS, type PageOptions, pageOptions } from './page-options.ts'
export type { PageState, PageStatus, StepRecord } from './page-state.ts'
export { decodeSampleShard, encodeSampleShard, loadSampleShard } from './sample-shard.ts'
export { serveWebClient, type WebServer, type WebServerOptions } from './serve.ts'
export { sampleShardBytes } from './shard-file.ts'
export { type ShardTrainingOptions, trainOnShard } from './shard-training.ts'
