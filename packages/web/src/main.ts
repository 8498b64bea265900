/**
 * The page: reads its options from the address, loads onnxruntime-web (the build this browser can
 * use, its runtime through the cache) and the bundled sample shard, trains, and shows each step.
 * `?autostart=1` starts without a click. Its state is `window.atollWeb` (page-state.ts).
 */
import { webBackends } from '@atoll/runtime'
import { PAGE_DEFAULTS, SAMPLE_SHARD_PATH } from './constants.ts'
import { loadOrtRuntime } from './ort-runtime.ts'
import { type PageOptions, pageOptions } from './page-options.ts'
import type { PageState } from './page-state.ts'
import { appendStepRow, render } from './page-view.ts'
import { loadSampleShard } from './sample-shard.ts'
import { trainOnShard } from './shard-training.ts'

const state: PageState = {
  status: 'idle',
  options: { ...PAGE_DEFAULTS, autostart: false },
  crossOriginIsolated: globalThis.crossOriginIsolated === true,
  steps: [],
}
window.atollWeb = state

async function train(options: PageOptions): Promise<void> {
  state.status = 'loading'
  render(state)
  const runtime = await loadOrtRuntime(options.backend !== 'wasm')
  state.runtime = { build: runtime.build, fromCache: runtime.fromCache, bytes: runtime.wasmBinary.byteLength }
  const registry = webBackends({ ort: runtime.ort, wasmBinary: runtime.wasmBinary, threads: options.threads })
  const backend = await registry.resolve(options.backend)
  state.backend = backend.name
  state.threads = runtime.ort.env.wasm.numThreads
  const images = await loadSampleShard(SAMPLE_SHARD_PATH)
  state.images = images.count
  state.status = 'training'
  render(state)
  const update = await trainOnShard({
    ...options,
    backend,
    images,
    onStep(report) {
      state.steps.push({ step: report.step, loss: report.loss, seconds: report.seconds })
      appendStepRow(state)
      render(state)
    },
  })
  state.result = { update: Object.fromEntries(update.delta), losses: update.losses, seconds: update.seconds }
  state.status = 'done'
  render(state)
}

function fail(err: unknown): void {
  state.status = 'failed'
  state.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  render(state)
}

function start(): void {
  train(state.options).catch(fail)
}

try {
  state.options = pageOptions(location.search)
  render(state)
  document.getElementById('start')?.addEventListener('click', start)
  if (state.options.autostart) start()
} catch (err) {
  fail(err)
}
