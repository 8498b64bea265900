/**
 * The `pipeline` suite's model and jobs. The model is a GPT sized for bytes of text (vocabulary 256,
 * so the tied embedding whose gradient crosses between the first and last stage every step is 64 KiB,
 * not the 1 MiB of gpt2:mini's 2048 rows that bytes never use), written as an ONNX file the job names.
 * The runs: OP-Fence with AdaTopK, OP-Fence with every edge dense (same steps: the loss gap), and the
 * `even` split in join order.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { exportOnnx, type GPT2Config, gpt2 } from '@atoll/core'
import { type PlacedStage, placeJob } from '@atoll/sched'

/** How big and how long: the full bench, or a smoke test of the suite (`quick`). */
export interface PipelineSize {
  gpt: GPT2Config
  batchSize: number
  microBatches: number
  /** steps of the two OP-Fence runs (the loss gap is read after these) */
  steps: number
  /** steps of the `even` run (its step time only) */
  evenSteps: number
  /** held-out batches scored at the end of a run */
  evalBatches: number
}

/**
 * Sized so that the slow link, not compute or per-message costs, bounds a step (docs/training.md,
 * "Pipeline benchmark", has the numbers). A boundary tensor is tokens × d × 4 bytes: at d = 64 a token
 * costs 102 µs on the wire at 20 Mbit/s each way it crosses, where the whole model's forward and
 * backward took 39 µs of CPU a token (two blocks; four took 77) on the 2-core machine, so that the
 * four peers sharing its two cores compute a micro-batch in a fifth of its dense crossing: enough
 * room for AdaTopK's 0.3 of the bytes (keep 20 %, top-k + fp16) to set the pace. 1024 tokens a
 * micro-batch (105 ms dense on the wire) make the 10 ms latency and the per-micro-batch costs small
 * beside it, and 16 micro-batches keep 1F1B's fill (S − 1 = 3 slots) to a sixth of a step (8 of 2048
 * tokens measured the same step times). 30 steps of the OP-Fence runs and 10 of `even` keep the
 * whole suite near 4 minutes on 2 cores, testnet and link probes included.
 */
export const FULL_SIZE: PipelineSize = {
  gpt: { vocab: 256, ctx: 64, d: 64, layers: 2, heads: 4 },
  batchSize: 256,
  microBatches: 16,
  steps: 30,
  evenSteps: 10,
  evalBatches: 2,
}

export const QUICK_SIZE: PipelineSize = {
  gpt: { vocab: 256, ctx: 16, d: 32, layers: 2, heads: 2 },
  batchSize: 4,
  microBatches: 2,
  steps: 3,
  evenSteps: 2,
  evalBatches: 1,
}

/** Writes the model as ONNX (the job's `model.onnx`); the loss is appended when the job reads it. */
export function writeModel(dir: string, gpt: GPT2Config): string {
  const path = join(dir, 'bench-gpt.onnx')
  writeFileSync(path, exportOnnx(gpt2({ config: gpt, loss: false, seed: 0 }).graph))
  return path
}

export type PlacementChoice = 'fence' | { stages: PlacedStage[] }
export type CompressionChoice = 'adatopk' | 'none'

/** A job file's fields (docs/jobs.md), as the coordinator reads them. */
export function benchJob(
  name: string,
  size: PipelineSize,
  model: string,
  run: { placement: PlacementChoice; compression: CompressionChoice; steps: number; out: string },
): Record<string, unknown> {
  const lr = 3e-3
  return {
    name,
    model: { onnx: model },
    data: { dataset: 'moby-dick', tokenizer: 'bytes', batchSize: size.batchSize, seed: 0 },
    steps: run.steps,
    optimizer: { kind: 'adamw', betas: [0.9, 0.95], weightDecay: 0.1 },
    schedule: { kind: 'cosine', lr, warmupSteps: Math.floor(run.steps / 10), minLr: lr / 10 },
    clip: 1,
    microBatches: size.microBatches,
    // a job file lists explicit stages directly
    placement: typeof run.placement === 'string' ? run.placement : run.placement.stages,
    compression: run.compression,
    checkpoint: { dir: join(run.out, 'checkpoints', name), every: run.steps },
    eval: { every: 0, batches: size.evalBatches },
  }
}

/**
 * The `even` baseline's split (sched's planEven: equal numbers of layers per peer) with its stages on
 * the peers in `order`, as explicit stages: `even` places in the order the membership lists the peers,
 * which is the join order only as far as the daemon asked lists them so; this makes it so.
 */
export function evenInOrder(size: PipelineSize, order: readonly string[]): PlacedStage[] {
  const model = gpt2({ config: size.gpt, seed: 0 })
  const peers = order.map((id) => ({ id, device: 'cpu', flops: 1e10, memoryBytes: 1e12 }))
  const links = order.flatMap((a, i) =>
    order.slice(i + 1).map((b) => ({ a, b, bandwidthBps: 1e8, rttSeconds: 1e-3 })),
  )
  const placed = placeJob(model.graph, {
    loss: model.loss ?? 'loss',
    bindings: { batch: size.batchSize / size.microBatches },
    microBatches: size.microBatches,
    peers,
    links,
    placement: 'even',
    compression: 'none',
  })
  return placed.plan.stages.map((s, i) => ({
    peer: order[i],
    scopes: s.layers.filter((layer) => layer !== '(none)'),
  }))
}
