/**
 * The `sync` suite's model and jobs: a GPT for bytes large enough that an all-reduce of its
 * parameters over 100 Mbit/s takes longer than its backward pass, trained data-parallel on four
 * replicas (OP-Fence puts one stage on the one cluster and replicates it) with each algorithm of
 * @atoll/sync, and with none (compute alone).
 */
import type { GPT2Config } from '@atoll/core'

/**
 * The runs of the suite, in the order they run: compute alone just before DreamDDP, so that the two
 * runs its main figure compares see the machine in the same state (a shared machine's speed drifts
 * over minutes), and after the daemons' first minutes. `dreamddp-short` is DreamDDP with a period too
 * short to hide its averaging: there the solver's wait is not zero, and its prediction is tested.
 */
export const SYNC_RUNS = ['ssgd', 'localsgd', 'dreamddp-short', 'compute', 'dreamddp', 'diloco'] as const
export type SyncRun = (typeof SYNC_RUNS)[number]

export interface SyncSize {
  gpt: GPT2Config
  /** the job's batch, split over the four replicas */
  batchSize: number
  /** steps of each run */
  steps: Record<SyncRun, number>
  /** H of Local SGD, DreamDDP and DiLoCo */
  period: number
  /** H of `dreamddp-short` */
  shortPeriod: number
}

/**
 * Width 320, 8 layers: 9.9 M parameters, 40 MB as float32, whose flat all-reduce over four peers at
 * 100 Mbit/s moves 1.5 × 40 MB through each peer's link: 4.8 s on the wire, about 6 s measured,
 * where a replica's forward and backward of 8 sequences of 64 bytes take about 2 s with four
 * replicas on two cores. S-SGD pays the all-reduce every step; Local SGD and DiLoCo once a period,
 * blocking; DreamDDP a sixteenth of the layers each step, overlapped with the next step's compute.
 * Period 16: the four daemons share two cores, so every byte a replica sends or receives costs
 * compute time (about 20 ns of CPU per byte sent, measured); at period 8 the averaging's CPU alone
 * took a third of a compute step. The periodic algorithms run 3 periods and a step (the third
 * period's record comes with the step after it); S-SGD's steps are the fewest: each is the slowest.
 */
export const FULL_SIZE: SyncSize = {
  gpt: { vocab: 256, ctx: 64, d: 320, layers: 8, heads: 8 },
  batchSize: 32,
  steps: { compute: 16, ssgd: 6, localsgd: 49, 'dreamddp-short': 17, dreamddp: 49, diloco: 49 },
  period: 16,
  shortPeriod: 4,
}

/** A smoke test; its batch splits over four replicas, or three should a peer miss a plan. */
export const QUICK_SIZE: SyncSize = {
  gpt: { vocab: 256, ctx: 16, d: 32, layers: 2, heads: 2 },
  batchSize: 12,
  steps: { compute: 3, ssgd: 3, localsgd: 3, 'dreamddp-short': 4, dreamddp: 4, diloco: 3 },
  period: 2,
  shortPeriod: 2,
}

/** Local SGD with a period longer than any run never averages: the replicas compute alone. */
const NEVER = 1_000_000

/** The job file's `sync` of each run. */
export function syncOf(run: SyncRun, period: number): Record<string, unknown> {
  if (run === 'compute') return { algorithm: 'localsgd', period: NEVER }
  if (run === 'ssgd') return { algorithm: 'ssgd' }
  if (run === 'dreamddp-short') return { algorithm: 'dreamddp', period }
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
    sync: syncOf(run, run === 'dreamddp-short' ? size.shortPeriod : size.period),
    checkpoint: { dir: `${out}/checkpoints/${run}`, every: steps },
    eval: { every: 0, batches: 1 },
  }
}
