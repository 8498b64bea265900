/**
 * The `fl` suite's setting: issue 14's benchmark (ten clients, Dirichlet α = 0.5 over
 * Fashion-MNIST, uploads from 1 to 50 Mbit/s, the same rounds for every strategy), sized to run in
 * a few minutes on a two-core machine — few samples per client and few local steps a round.
 */

export interface FlSetting {
  clients: number
  /** Dirichlet concentration of the split by label */
  alpha: number
  /** the split's, the model's and the selection's seed */
  seed: number
  /** the clients' upload rates: geometric from min (client 0) to max (the last), Mbit/s */
  mbit: { min: number; max: number }
  /** rounds every strategy runs */
  rounds: number
  /** each client trains on at most this many of its part's samples (a seeded choice) */
  samplesPerClient: number
  local: { epochs: number; maxSteps: number; batchSize: number; lr: number; momentum: number }
  /** fedavg-topk's ratio, and bcrs-opwa's mean ratio */
  keepRatio: number
  /** held-out accuracy the time to target is measured to */
  targetAccuracy: number
  evalSamples: number
  evalBatch: number
  /** each client's uplink probe */
  probeSeconds: number
  /** no client is expected to miss it: a round ends when every update is in */
  deadlineSeconds: number
}

export const FL_SETTING: FlSetting = {
  clients: 10,
  alpha: 0.5,
  seed: 0,
  mbit: { min: 1, max: 50 },
  rounds: 40,
  samplesPerClient: 640,
  local: { epochs: 1, maxSteps: 10, batchSize: 32, lr: 0.05, momentum: 0 },
  keepRatio: 0.1,
  targetAccuracy: 0.78,
  evalSamples: 10_000,
  evalBatch: 250,
  probeSeconds: 0.5,
  deadlineSeconds: 120,
}

/** A smoke test of the suite: every part runs, nothing is measured. */
export const QUICK_FL_SETTING: FlSetting = {
  ...FL_SETTING,
  rounds: 2,
  samplesPerClient: 64,
  local: { ...FL_SETTING.local, maxSteps: 2 },
  evalSamples: 1000,
  probeSeconds: 0.2,
}

/** The browser-vs-Node step: the FL model's local step on the page's bundled shard. */
export interface StepSetting {
  /** steps per run; the first `warmup` of each are left out */
  steps: number
  warmup: number
  /** runs of each side, alternated (browser, Node, browser, Node…) so that load drift hits both */
  repeats: number
  batch: number
  /** onnxruntime's threads on both sides (wasm threads in the page) */
  threads: number
  lr: number
  seed: number
}

export const STEP_SETTING: StepSetting = {
  steps: 50,
  warmup: 10,
  repeats: 6,
  batch: 32,
  threads: 2,
  lr: 0.05,
  seed: 0,
}

export const QUICK_STEP_SETTING: StepSetting = { ...STEP_SETTING, steps: 6, warmup: 2, repeats: 1 }
