/**
 * The browser client in a real headless Chromium (Debian's, driven by playwright-core): the page,
 * built by Vite and served cross-origin isolated, trains on its bundled sample shard with two wasm
 * threads and the loss falls; it computes the same update as onnxruntime-node does with the same
 * code, data, model and seed; a second visit takes the wasm runtime from Cache Storage.
 */
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { lossTrend, nodeBackends, subsetImages } from '@atoll/runtime'
import type { Browser, BrowserContext } from 'playwright-core'
import {
  decodeSampleShard,
  ensureWebClient,
  FASHION_MNIST_CLASSES,
  type PageState,
  SAMPLE_SHARD_PATH,
  serveWebClient,
  trainOnShard,
  type WebServer,
} from '../src/index.ts'
import { launchChromium } from './chromium.ts'
import { greyPng } from './png.ts'

/** The browser compares with Node at this relative distance (‖Δ_web − Δ_node‖ / ‖Δ_node‖, per tensor). */
const MATCH = 1e-5
/** A page that has not finished by then is stuck (a 40-step run takes a few seconds here). */
const PAGE_DONE_MS = 180_000
const ARTEFACTS = join(import.meta.dirname, '..', '..', '..', 'out', 'web')

let browser: Browser
let context: BrowserContext
let server: WebServer

before(async () => {
  const dist = await ensureWebClient({ log: console.error })
  server = await serveWebClient({ dir: dist })
  browser = await launchChromium()
  context = await browser.newContext()
})

after(async () => {
  await context?.close()
  await browser?.close()
  await server?.close()
})

/** Opens the page with `query`, waits until it is done (or failed), and returns its state. */
async function runPage(query: string): Promise<{ state: PageState; screenshot: Buffer }> {
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  try {
    await page.goto(`${server.url}?${query}`)
    await page.waitForFunction(() => ['done', 'failed'].includes(window.atollWeb?.status), null, {
      timeout: PAGE_DONE_MS,
    })
    const state = await page.evaluate(() => {
      const s = window.atollWeb
      // typed arrays cross as plain arrays
      const update = Object.fromEntries(
        Object.entries(s.result?.update ?? {}).map(([name, t]) => [name, { ...t, data: Array.from(t.data) }]),
      )
      return { ...s, result: s.result && { ...s.result, update } } as unknown as PageState
    })
    assert.equal(state.status, 'done', `the page failed: ${state.error} ${errors.join('; ')}`)
    return { state, screenshot: await page.screenshot({ fullPage: true }) }
  } finally {
    await page.close()
  }
}

test('the page trains on its sample shard with two wasm threads, and the loss falls', async () => {
  const { state, screenshot } = await runPage('autostart=1&steps=40&threads=2')
  mkdirSync(ARTEFACTS, { recursive: true })
  writeFileSync(join(ARTEFACTS, 'page-trained.png'), screenshot)
  assert.equal(state.crossOriginIsolated, true, 'served with COOP/COEP, the page is cross-origin isolated')
  assert.equal(state.threads, 2)
  // headless Chromium with --disable-gpu has no adapter: the wasm-only build, on the wasm backend
  assert.deepEqual([state.backend, state.runtime?.build], ['wasm', 'wasm'])
  assert.equal(state.images, 1024)
  assert.deepEqual(
    state.steps.map((s) => s.step),
    Array.from({ length: 40 }, (_, k) => k),
  )
  const losses = state.result!.losses
  assert.ok(losses.every(Number.isFinite), `losses ${losses}`)
  const { firstLoss, lastLoss } = lossTrend(losses, 10)
  assert.ok(lastLoss < 0.75 * firstLoss, `loss ${firstLoss.toFixed(3)} → ${lastLoss.toFixed(3)}`)
})

test('the browser computes the update onnxruntime-node computes for the same data, model and seed', async () => {
  const settings = { model: 'mlp', steps: 6, batch: 32, lr: 0.05, seed: 3 } as const
  const query = new URLSearchParams({ ...mapValues(settings), autostart: '1', backend: 'wasm', threads: '2' })
  const { state } = await runPage(query.toString())
  // the page's own shard, as it was served
  const images = decodeSampleShard(readFileSync(join(server.dir, SAMPLE_SHARD_PATH)))
  const backend = await nodeBackends().resolve('cpu')
  const node = await trainOnShard({ ...settings, backend, images })

  const web = state.result!
  assert.deepEqual(Object.keys(web.update).sort(), [...node.delta.keys()].sort())
  for (const [name, expected] of node.delta) {
    const got = web.update[name]
    assert.deepEqual(got.shape, expected.shape, name)
    const distance = relativeDistance(Float32Array.from(got.data), expected.data)
    assert.ok(distance <= MATCH, `${name}: ‖Δ_web − Δ_node‖ / ‖Δ_node‖ = ${distance.toExponential(2)}`)
  }
  for (const [k, loss] of web.losses.entries()) {
    const expected = node.losses[k]
    assert.ok(Math.abs(loss - expected) <= MATCH * expected, `step ${k}: loss ${loss} vs ${expected}`)
  }
})

test('picked image files train as the same images would: the page decodes them exactly, labels from their names', async () => {
  const shard = decodeSampleShard(readFileSync(join(server.dir, SAMPLE_SHARD_PATH)))
  const count = 64
  const chosen = subsetImages(
    shard,
    Array.from({ length: count }, (_, i) => i),
  )
  const side = shard.height * shard.width
  const files = Array.from({ length: count }, (_, i) => ({
    name: `${FASHION_MNIST_CLASSES[chosen.labels[i]].replace('/', '-')}_${i}.png`,
    mimeType: 'image/png',
    buffer: greyPng(chosen.pixels.subarray(i * side, (i + 1) * side), shard.width, shard.height),
  }))
  const settings = { model: 'mlp', steps: 2, batch: 32, lr: 0.05, seed: 3 } as const
  const page = await context.newPage()
  try {
    await page.goto(`${server.url}?${new URLSearchParams({ ...mapValues(settings), backend: 'wasm' })}`)
    await page.waitForFunction(() => !(document.getElementById('start') as HTMLButtonElement).disabled)
    // a file no class is named in is refused by name, and nothing starts
    await page.setInputFiles('#files', [{ ...files[0], name: 'holiday.png' }])
    await page.waitForFunction(() => window.atollWeb.error !== undefined)
    assert.match(
      (await page.evaluate(() => window.atollWeb.error)) ?? '',
      /'holiday.png': 'holiday' names no class/,
    )
    await page.setInputFiles('#files', files)
    await page.waitForFunction(() => window.atollWeb.images !== undefined)
    await page.click('#start')
    await page.waitForFunction(() => ['done', 'failed'].includes(window.atollWeb.status), null, {
      timeout: PAGE_DONE_MS,
    })
    const state = (await page.evaluate(() => {
      const s = window.atollWeb
      const update = Object.fromEntries(
        Object.entries(s.result?.update ?? {}).map(([n, t]) => [n, Array.from(t.data)]),
      )
      return { status: s.status, error: s.error, images: s.images, source: s.imageSource, update }
    })) as {
      status: string
      error?: string
      images: number
      source: string
      update: Record<string, number[]>
    }
    assert.equal(state.status, 'done', state.error)
    assert.deepEqual([state.images, state.source], [count, 'picked'])
    const backend = await nodeBackends().resolve('cpu')
    const node = await trainOnShard({ ...settings, backend, images: chosen })
    for (const [name, expected] of node.delta) {
      const distance = relativeDistance(Float32Array.from(state.update[name]), expected.data)
      assert.ok(distance <= MATCH, `${name}: ${distance.toExponential(2)}`)
    }
  } finally {
    await page.close()
  }
})

test('a second visit takes the wasm runtime from Cache Storage', async () => {
  await runPage('autostart=1&steps=1')
  const { state } = await runPage('autostart=1&steps=1')
  assert.equal(state.runtime?.fromCache, true)
  assert.ok(state.runtime!.bytes > 1e6, `${state.runtime!.bytes} bytes`)
})

test('the server isolates the page, caches hashed files for good, and serves nothing outside its folder', async () => {
  const page = await fetch(server.url)
  assert.equal(page.status, 200)
  assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin')
  assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp')
  assert.equal(page.headers.get('cache-control'), 'no-cache')
  const script = (await page.text()).match(/src="\.\/(assets\/[^"]+\.js)"/)?.[1]
  assert.ok(script, 'the page loads a hashed script')
  assert.match((await fetch(server.url + script)).headers.get('cache-control') ?? '', /immutable/)
  for (const outside of ['../package.json', '%2e%2e/package.json', '..%2fpackage.json'])
    assert.equal((await fetch(server.url + outside)).status, 404, outside)
  assert.equal((await fetch(server.url, { method: 'POST' })).status, 405)
})

function mapValues(settings: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, String(v)]))
}

function relativeDistance(got: Float32Array, expected: Float32Array): number {
  let diff = 0
  let norm = 0
  for (let i = 0; i < expected.length; i++) {
    diff += (got[i] - expected[i]) ** 2
    norm += expected[i] ** 2
  }
  assert.ok(norm > 0, 'the update is not zero')
  return Math.sqrt(diff / norm)
}
