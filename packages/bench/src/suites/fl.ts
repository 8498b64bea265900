/**
 * `atoll bench fl` (issue 14): federated learning of the zoo MLP on Fashion-MNIST by ten clients
 * (Dirichlet α = 0.5), whose uploads to the server run at 1 to 50 Mbit/s on emulated links, with each
 * strategy in turn for the same rounds — dense `fedavg`, `fedavg-topk` and `bcrs-opwa` at the same
 * mean keep ratio — timed to a target held-out accuracy; and the FL model's local step in headless
 * Chromium against the same step in Node. Every figure is a ratio or difference of runs made in this
 * invocation (fl-figures.ts), with real meshes and real onnxruntime training throughout.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadImageDataset, nodeBackends } from '@atoll/runtime'
import { FL_STRATEGIES } from '@atoll/sync'
import type { BenchOptions, BenchReport, BenchSuite } from '../suite.ts'
import { clientMbit, type FederationRun, runFederation } from './fl-federation.ts'
import { flFigures } from './fl-figures.ts'
import {
  FL_SETTING,
  type FlSetting,
  QUICK_FL_SETTING,
  QUICK_STEP_SETTING,
  STEP_SETTING,
  type StepSetting,
} from './fl-setting.ts'

export interface FlBenchOptions extends BenchOptions {
  setting?: FlSetting
  step?: StepSetting
  /** keep the checkpoints here (default: a temporary folder, removed) */
  out?: string
}

const LINKS = {
  kind: 'emulated' as const,
  why:
    "each client's mesh shapes what it sends the server (net's LinkTable: a token bucket at the client's rate, " +
    'bursts of 50 ms): its probe, joins, uploads and submits; the server sends the model unshaped over loopback. ' +
    'Real libp2p meshes on 127.0.0.1 in one process; the server and the ten clients share this machine',
}

export async function runFlBench(options: FlBenchOptions): Promise<BenchReport> {
  const fl = options.setting ?? (options.quick ? QUICK_FL_SETTING : FL_SETTING)
  const step = options.step ?? (options.quick ? QUICK_STEP_SETTING : STEP_SETTING)
  const { log } = options
  const work = options.out ?? mkdtempSync(join(tmpdir(), 'atoll-bench-fl-'))
  const load = [loadavg()[0]]
  try {
    log(`fl: the FL model's local step, headless Chromium (wasm, ${step.threads} threads) and Node`)
    // loaded here: Chromium's driver is for this suite alone, and the other suites run where it is absent
    const { browserAndNodeSteps } = await import('./fl-browser.ts')
    const steps = await browserAndNodeSteps(step, log)
    // parsed once for the process (seconds of blocking): not while the meshes' handshakes run
    loadImageDataset('fashion-mnist')
    const serverBackend = await nodeBackends().resolve('cpu')
    const clientBackends = await Promise.all(
      Array.from({ length: fl.clients }, () => nodeBackends().resolve('cpu')),
    )
    const mbit = clientMbit(fl)
    log(`fl: ${fl.clients} clients, uploads ${mbit.map((m) => m.toFixed(1)).join(', ')} Mbit/s (emulated)`)
    const federations: FederationRun[] = []
    for (const strategy of FL_STRATEGIES) {
      log(`fl: ${strategy}, ${fl.rounds} rounds`)
      federations.push(
        await runFederation({ setting: fl, strategy, work, serverBackend, clientBackends, log }),
      )
    }
    load.push(loadavg()[0])
    const report = flFigures(
      { federations, steps },
      { fl, step, mbit, links: LINKS, cores: availableParallelism() },
    )
    const loadAverage = { start: load[0], end: load[1] }
    // quick: a smoke test of the suite (two rounds, a few steps), not a measurement
    return { ...report, details: { quick: options.quick, ...report.details, load_average_1min: loadAverage } }
  } finally {
    if (options.out === undefined) rmSync(work, { recursive: true, force: true })
  }
}

export const fl: BenchSuite = {
  name: 'fl',
  summary:
    'bcrs-opwa vs fedavg-topk and fedavg: 10 clients at 1-50 Mbit/s, time to target accuracy; browser step vs Node',
  run: (options) => runFlBench(options),
}
