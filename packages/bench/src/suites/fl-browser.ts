/**
 * The FL model's local step in a browser and in Node, the same code on both sides: @atoll/web's
 * page (its Vite build, served cross-origin isolated so that onnxruntime-web's wasm runs threads)
 * in Debian's headless Chromium, and web's trainOnShard on onnxruntime-node, with the same shard
 * (the page's bundled one), model, batch, seed and thread count. Each side's per-step seconds are
 * what runtime's localTrainer times around a step; the page exposes them on `window.atollWeb`.
 */
import { parseWith } from '@atoll/core'
import { type Backend, nodeBackends } from '@atoll/runtime'
import {
  decodeSampleShard,
  ensureWebClient,
  launchChromium,
  sampleShardBytes,
  serveWebClient,
  trainOnShard,
} from '@atoll/web'
import * as z from 'zod/mini'
import { BenchInputError, BenchProcessError } from '../errors.ts'
import { median } from '../measure.ts'
import type { StepSetting } from './fl-setting.ts'

/** A page that has not finished by then is stuck (60 steps take a few seconds here). */
const PAGE_DONE_MS = 180_000
const MODEL = 'mlp' as const

type Browser = Awaited<ReturnType<typeof launchChromium>>

/** One side's runs: every step's seconds, warm-up included, run after run. */
export interface StepTimes {
  /** step seconds of each run */
  runs: number[][]
  threads: number
  backend: string
  /** the page only: whether it could share memory between threads (COOP/COEP) */
  crossOriginIsolated?: boolean
}

/** What the bench reads of the page's `window.atollWeb` (page-state.ts), checked: it comes from another process. */
const pageState = z.object({
  status: z.enum(['done', 'failed']),
  error: z.optional(z.string()),
  crossOriginIsolated: z.boolean(),
  backend: z.optional(z.string()),
  threads: z.optional(z.int()),
  steps: z.array(z.object({ step: z.int(), seconds: z.number().check(z.gte(0)) })),
})

/** Alternates browser and Node runs of `setting.steps` local steps; returns each side's times. */
export async function browserAndNodeSteps(
  setting: StepSetting,
  log: (line: string) => void,
): Promise<{ browser: StepTimes; node: StepTimes }> {
  const dist = await ensureWebClient({ log })
  const server = await serveWebClient({ dir: dist })
  const browser = await launchChromium(log)
  try {
    const images = decodeSampleShard(sampleShardBytes())
    const backend = withThreads(await nodeBackends().resolve('cpu'), setting.threads)
    const query = new URLSearchParams({
      autostart: '1',
      model: MODEL,
      backend: 'wasm',
      steps: String(setting.steps),
      threads: String(setting.threads),
      batch: String(setting.batch),
      lr: String(setting.lr),
      seed: String(setting.seed),
    })
    const web: StepTimes = { runs: [], threads: setting.threads, backend: 'wasm' }
    const node: StepTimes = { runs: [], threads: setting.threads, backend: backend.name }
    for (let r = 0; r < setting.repeats; r++) {
      const page = await pageSteps(browser, `${server.url}?${query}`)
      web.runs.push(page.seconds)
      Object.assign(web, { threads: page.threads, backend: page.backend, crossOriginIsolated: page.isolated })
      log(`fl: browser run ${r + 1}: ${summary(page.seconds, setting.warmup)}`)
      const seconds: number[] = []
      const { model, steps, batch, lr, seed } = { ...setting, model: MODEL }
      await trainOnShard({
        model,
        steps,
        batch,
        lr,
        seed,
        backend,
        images,
        onStep: (s) => void seconds.push(s.seconds),
      })
      node.runs.push(seconds)
      log(`fl: node run ${r + 1}: ${summary(seconds, setting.warmup)}`)
    }
    return { browser: web, node }
  } finally {
    await browser.close()
    await server.close()
  }
}

/** One page visit: trains, then hands back its per-step seconds and how it ran. */
async function pageSteps(browser: Browser, url: string) {
  const context = await browser.newContext()
  const errors: string[] = []
  try {
    const page = await context.newPage()
    page.on('pageerror', (err: Error) => errors.push(err.message))
    await page.goto(url)
    await page.waitForFunction(() => ['done', 'failed'].includes(window.atollWeb?.status), null, {
      timeout: PAGE_DONE_MS,
    })
    const state = parseWith(
      pageState,
      await page.evaluate(() => {
        const { status, error, crossOriginIsolated, backend, threads, steps } = window.atollWeb
        return { status, error, crossOriginIsolated, backend, threads, steps }
      }),
      BenchInputError,
      { root: 'window.atollWeb' },
    )
    if (state.status === 'failed')
      throw new BenchProcessError(`the page failed: ${state.error ?? ''} ${errors.join('; ')}`.trim())
    return {
      seconds: state.steps.map((s) => s.seconds),
      threads: state.threads ?? 1,
      backend: state.backend ?? 'unknown',
      isolated: state.crossOriginIsolated,
    }
  } finally {
    await context.close()
  }
}

/**
 * `backend` with onnxruntime's intra-op threads set on every session it makes: web's trainOnShard
 * leaves them at onnxruntime's default, and the comparison needs the page's count.
 */
function withThreads(backend: Backend, threads: number): Backend {
  return {
    name: backend.name,
    device: backend.device,
    format: backend.format,
    createSession: (model, options) => backend.createSession(model, { ...options, intraOpThreads: threads }),
  }
}

function summary(seconds: readonly number[], warmup: number): string {
  return `${seconds.length} steps, median after the first ${warmup} ${(1000 * median(seconds.slice(warmup))).toFixed(2)} ms`
}
