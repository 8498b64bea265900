import { type Tensor, tensor, zeros } from '@atoll/core'
import type { Feed, Value } from '../backend/backend.ts'
import { accumulateGrad, type Parameter, zeroGrads } from '../optim/parameter.ts'
import { SessionError } from '../errors.ts'
import { microBatchView } from './bindings.ts'
import { type PipelineSchedule, pipelineOrder } from './schedule.ts'
import type { PipelineStage } from './pipeline-stage.ts'

export interface PipelineStepOptions {
  /** equal slices of the batch along dim 0 (default 1) */
  microBatches?: number
  schedule?: PipelineSchedule
  /** the loss's seed is this times 1/M, and so is every gradient (mixed precision's loss scale; default 1) */
  lossScale?: number
}

/**
 * A parameter read by several stages (tied weights): each later stage accumulates into a gradient of
 * its own (`from`, in stage order), added into the first stage's (`into`) when the step's backward is
 * done. Per-stage sums added in stage order are what stages on different peers compute too, so one
 * process and a job across peers reach the same gradient to the bit.
 */
export interface TiedGradient {
  into: Parameter
  from: readonly Parameter[]
}

export interface PipelineStepResult {
  /** the mean of the micro-batches' losses: the batch's mean loss when they are equal-sized */
  loss: number
  /** per micro-batch */
  losses: number[]
}

/**
 * Stages of one model, chained in one process by value name: stage s+1 reads boundary values stage
 * s produced. One call runs forward and backward for every micro-batch in the schedule's order and
 * leaves the batch's mean gradients accumulated in the Parameters (the loss seed is 1/M).
 */
export class Pipeline {
  readonly stages: readonly PipelineStage[]
  readonly loss: string
  private readonly seeds = new Map<string, Tensor>()
  private readonly tied: readonly TiedGradient[]

  constructor(stages: readonly PipelineStage[], loss = 'loss', tied: readonly TiedGradient[] = []) {
    if (stages.length === 0) throw new SessionError('a pipeline needs at least one stage')
    const last = stages[stages.length - 1].graph
    if (!last.outputs.some((o) => o.name === loss))
      throw new SessionError(`the last stage has no output '${loss}'`)
    this.stages = stages
    this.loss = loss
    this.tied = tied
  }

  async step(
    batch: Readonly<Record<string, Tensor>>,
    options: PipelineStepOptions = {},
  ): Promise<PipelineStepResult> {
    const M = options.microBatches ?? 1
    const S = this.stages.length
    const acts: Record<string, Feed>[] = Array.from({ length: M }, () => ({}))
    const grads: Record<string, Feed>[] = Array.from({ length: M }, () => ({}))
    const losses = new Array<number>(M).fill(Number.NaN)
    const seed = this.seed(M, options.lossScale ?? 1)
    for (const t of this.tied) zeroGrads(t.from)
    try {
      for (const s of this.stages) await s.beginStep()
      for (const op of pipelineOrder(options.schedule ?? '1f1b', S, M)) {
        const stage = this.stages[op.stage]
        if (op.kind === 'F') {
          const feeds: Record<string, Feed> = {}
          for (const input of stage.graph.inputs) {
            const data = batch[input.name]
            const f = data !== undefined ? microBatchView(data, op.mb, M) : acts[op.mb][input.name]
            if (f === undefined)
              throw new SessionError(`stage ${op.stage} needs '${input.name}', which nothing provides`)
            feeds[input.name] = f
          }
          const out = await stage.forward(
            op.mb,
            feeds,
            op.stage === S - 1 ? { [this.loss]: seed } : undefined,
          )
          Object.assign(acts[op.mb], out)
          const l = out[this.loss]
          if (l !== undefined) losses[op.mb] = ((await l.read()).data as Float32Array)[0]
        } else {
          const outputGrads: Record<string, Feed> =
            op.stage === S - 1 ? { [this.loss]: seed } : this.outputGrads(stage, grads[op.mb], acts[op.mb])
          const inputGrads = await stage.backward(op.mb, outputGrads)
          for (const [name, g] of Object.entries(inputGrads))
            grads[op.mb][name] = await addGrads(grads[op.mb][name], g)
        }
      }
    } catch (err) {
      for (const s of this.stages) s.reset()
      throw err
    } finally {
      for (const s of this.stages) s.endStep()
      for (const m of [...acts, ...grads])
        for (const v of Object.values(m)) if ('dispose' in v) (v as Value).dispose()
    }
    for (const t of this.tied) for (const p of t.from) accumulateGrad(t.into, p.grad)
    return { loss: losses.reduce((a, b) => a + b, 0) / M, losses }
  }

  async release(): Promise<void> {
    for (const s of this.stages) await s.release()
  }

  /** Gradients of a stage's outputs; one no later stage differentiates gets zeros. */
  private outputGrads(stage: PipelineStage, available: Record<string, Feed>, acts: Record<string, Feed>) {
    const out: Record<string, Feed> = {}
    for (const o of stage.graph.outputs) {
      if (o.dtype !== 'float32') continue
      out[o.name] = available[o.name] ?? zeros('float32', acts[o.name].shape)
    }
    return out
  }

  /** d(mean loss)/d(micro-batch loss) = 1/M, fed as backward's seed: accumulation then is a plain sum. */
  private seed(M: number, scale: number): Tensor {
    const key = `${M}×${scale}`
    let t = this.seeds.get(key)
    if (t === undefined) {
      t = tensor('float32', [], Float32Array.of(scale / M))
      this.seeds.set(key, t)
    }
    return t
  }
}

/**
 * Sums the gradients of a value read by several later stages (a skip connection across a cut).
 * Rare, so done on the host.
 */
async function addGrads(existing: Feed | undefined, next: Value): Promise<Feed> {
  if (existing === undefined) return next
  const a = 'read' in existing ? await (existing as Value).read() : (existing as Tensor)
  const b = await next.read()
  const sum = new Float32Array(a.data as Float32Array)
  const bd = b.data as Float32Array
  for (let i = 0; i < sum.length; i++) sum[i] += bd[i]
  return tensor('float32', a.shape, sum)
}
