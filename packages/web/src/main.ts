/**
 * The page: reads its options from the address, loads onnxruntime-web (the build this browser can
 * use, its runtime through the cache) and the bundled sample shard, then either trains alone and
 * shows each step, or, given a server (`?server=`, or the one that serves the page), joins its
 * federation and shows each round. Served by the server, it also shows the federation's status,
 * polled from `federation.json`. `?autostart=1` starts without a click. Its state is
 * `window.atollWeb` (page-state.ts).
 */
import { type Backend, type ImageSet, webBackends } from '@atoll/runtime'
import { fetchBoard, joinAddressesFor } from './board.ts'
import { PAGE_DEFAULTS, SAMPLE_SHARD_PATH } from './constants.ts'
import { pickedImages } from './picked-images.ts'
import { joinFromPage } from './federated-client.ts'
import { followEvent } from './federated-state.ts'
import { loadOrtRuntime } from './ort-runtime.ts'
import { type PageOptions, pageOptions } from './page-options.ts'
import type { FederatedState, PageState } from './page-state.ts'
import { appendStepRow, render } from './page-view.ts'
import { loadSampleShard } from './sample-shard.ts'
import { trainOnShard } from './shard-training.ts'

/** How often the server's panel is refreshed. */
const BOARD_POLL_MS = 1_000

const state: PageState = {
  status: 'idle',
  options: { ...PAGE_DEFAULTS, autostart: false },
  crossOriginIsolated: globalThis.crossOriginIsolated === true,
  steps: [],
}
window.atollWeb = state
/** the files the user picked, once decoded; the bundled sample shard otherwise */
let picked: ImageSet | undefined
/** the server's addresses the page tries in turn when it joins: `?server=`, or its server's own */
let joinAt: string[] = []

/** onnxruntime-web, the backend the options ask for, and the sample shard. */
async function setUp(options: PageOptions): Promise<{ backend: Backend; images: ImageSet }> {
  state.status = 'loading'
  render(state)
  const runtime = await loadOrtRuntime(options.backend !== 'wasm')
  state.runtime = { build: runtime.build, fromCache: runtime.fromCache, bytes: runtime.wasmBinary.byteLength }
  const registry = webBackends({ ort: runtime.ort, wasmBinary: runtime.wasmBinary, threads: options.threads })
  const backend = await registry.resolve(options.backend)
  state.backend = backend.name
  state.threads = runtime.ort.env.wasm.numThreads
  const images = picked ?? (await loadSampleShard(SAMPLE_SHARD_PATH))
  state.images = images.count
  state.imageSource = picked === undefined ? 'sample' : 'picked'
  return { backend, images }
}

async function train(options: PageOptions): Promise<void> {
  const { backend, images } = await setUp(options)
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

async function federate(options: PageOptions, servers: string[]): Promise<void> {
  const { backend, images } = await setUp(options)
  const federated: FederatedState = { server: servers[0], phase: 'connecting', rounds: [] }
  state.federated = federated
  state.status = 'training'
  render(state)
  await joinFromPage({
    servers,
    iceServers: options.iceServers,
    backend,
    images,
    seed: options.seed,
    threads: options.threads,
    onEvent(event) {
      followEvent(federated, event)
      render(state)
    },
  })
  state.status = 'done'
  render(state)
}

/** Keeps the server's panel current while the server answers; stops once it is done. */
async function pollBoard(): Promise<void> {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, BOARD_POLL_MS))
    const board = await fetchBoard().catch(() => state.board)
    if (board === undefined) return
    state.board = board
    render(state)
    if (board.phase === 'done') return
  }
}

function fail(err: unknown): void {
  state.status = 'failed'
  state.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  render(state)
}

/** Decodes the picked files; a file that cannot be used is named, and the page waits for another pick. */
function pick(input: HTMLInputElement): void {
  state.error = undefined
  pickedImages(Array.from(input.files ?? []))
    .then((images) => {
      picked = images
      state.images = images.count
      state.imageSource = 'picked'
    })
    .catch((err: Error) => {
      state.error = `${err.name}: ${err.message}`
    })
    .finally(() => render(state))
}

function start(): void {
  ;(joinAt.length === 0 ? train(state.options) : federate(state.options, joinAt)).catch(fail)
}

async function open(): Promise<void> {
  state.options = pageOptions(location.search)
  state.board = await fetchBoard()
  const { server } = state.options
  if (server !== undefined) joinAt = [server]
  else if (state.board !== undefined) joinAt = joinAddressesFor(state.board.joinAddresses, location.hostname)
  if (state.board !== undefined) pollBoard().catch(fail)
  render(state)
  document.getElementById('start')?.addEventListener('click', start)
  const files = document.getElementById('files') as HTMLInputElement | null
  files?.addEventListener('change', () => pick(files))
  if (state.options.autostart) start()
}

open().catch(fail)
