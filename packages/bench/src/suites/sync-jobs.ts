/**
 * The `sync` suite's model and jobs: a GPT for bytes large enough that an all-reduce of its
 * parameters over 100 Mbit/s takes longer than its backward pass, trained data-parallel on four
 * replicas (OP-Fence puts one stage on the one cluster and replicates it) with each algorithm of
 * @atoll/sync, and with none (compute alone).
 */
import type { GPT2Config } from '@atoll/core'

/** The runs of the suite, in the order they run. */
export const SYNC_RUNS = ['compute', 'ssgd', 'localsgd', 'dreamddp', 'diloco'] as const
export type SyncRun = (typeof SYNC_RUNS)[number]

export interface SyncSize {
  gpt: GPT2Config
  /** the job's batch, split over the four replicas */
  batchSize: number
  /** steps of each run */
  steps: Record<SyncRun, number>
  /** H of Local SGD, DreamDDP and DiLoCo */
  period: number
}

/**
 * Width 320, 8 layers: 9.9 M parameters, 40 MB as float32, whose flat all-reduce over four peers at
 * 100 Mbit/s moves 1.5 × 40 MB through each peer's link: about 4.8 s, where a replica's forward and
 * backward of 8 sequences of 64 bytes take about 2 s with four replicas on two cores. S-SGD pays the
 * all-reduce every step; DreamDDP a quarter of the layers each step (period 4), overlapped with the
 * next step's compute. S-SGD's steps are the fewest: each is the slowest.
 */
export const FULL_SIZE: SyncSize = {
  gpt: { vocab: 256, ctx: 64, d: 320, layers: 8, heads: 8 },
  batchSize: 32,
  steps: { compute: 12, ssgd: 6, localsgd: 12, dreamddp: 12, diloco: 12 },
  period: 4,
}

/** A smoke test; its batch splits over four replicas, or three should a peer miss a plan. */
export const QUICK_SIZE: SyncSize = {
  gpt: { vocab: 256, ctx: 16, d: 32, layers: 2, heads: 2 },
  batchSize: 12,
  steps: { compute: 3, ssgd: 3, localsgd: 3, dreamddp: 4, diloco: 3 },
  period: 2,
}

/** Local SGD with a period longer than any run never averages: the replicas compute alone. */
const NEVER = 1_000_000

/** The job file's `sync` of each run. */
export function syncOf(run: SyncRun, period: number): Record<string, unknown> {
  if (run === 'compute') return { algorithm: 'localsgd', period: NEVER }
  if (run === 'ssgd') return { algorithm: 'ssgd' }
  return { algorithm: run, period }
}

/** A job file's fields (docs/jobs.md) for `run`. */
export function syncJob(run: SyncRun, size: SyncSize, model: string, out: string): Record<string, unknown> {
  const steps = size.steps[run]
  return {
    name: `bench-sync-${run}`,
    model: { onnx: model },
    data: { dataset: 'moby-dick', tokenizer: 'bytes', batchSize: size.batchSize, seed: 0 },
    steps,
    optimizer: { kind: 'adamw', betas: [0.9, 0.95], weightDecay: 0.1 },
    schedule: { kind: 'constant', lr: 1e-3 },
    clip: 1,
    microBatches: 1,
    placement: 'fence',
    compression: 'none',
    sync: syncOf(run, size.period),
    checkpoint: { dir: `${out}/checkpoints/${run}`, every: steps },
    eval: { every: 0, batches: 1 },
  }
}
