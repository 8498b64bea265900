import {
  buildStepLoop,
  type FlatSlot,
  flatLayout,
  type Graph,
  type StepLoop,
  type Tensor,
  tensor,
} from '@atoll/core'
import type { Backend, BackendSession } from '../backend/backend.ts'
import { SessionError } from '../errors.ts'
import { requireFinite, requireLr, type OptimizerState } from '../optim/optimizer.ts'
import type { Parameter } from '../optim/parameter.ts'
import { bufferTensor, checkStateHeader, loadBuffer } from '../optim/state.ts'
import { bindSymbols, ShapeCache } from './bindings.ts'
import { sessionModel } from './compiled-stage.ts'
import { stateFeeds } from './state.ts'

export interface StepLoopTrainerOptions {
  backend: Backend
  graph: Graph
  params: ReadonlyMap<string, Parameter>
  loss?: string
  /** AdamW's hyper-parameters, as `adamw` takes them (AMSGrad is not offered here) */
  betas?: readonly [number, number]
  eps?: number
  weightDecay?: number
  decays?: (name: string) => boolean
  intraOpThreads?: number
}

interface Compiled {
  loop: StepLoop
  session: BackendSession
}

/**
 * Trains with several AdamW steps per session run (core's `buildStepLoop`): a run takes one batch
 * per step and a learning rate per step, feeds the weights and the optimizer's moments once, and
 * reads them back once. The Parameters hold the weights between runs, as with the other
 * executors; the moments live here, checkpointed in `adamw`'s format, so either optimizer resumes
 * the other's state.
 */
export class StepLoopTrainer {
  readonly #o: StepLoopTrainerOptions
  readonly #header: { beta1: number; beta2: number; eps: number; weightDecay: number; amsgrad: false }
  readonly #compiled = new ShapeCache<Readonly<Record<string, Tensor>>, Compiled>((batch) =>
    this.#build(batch),
  )
  /** the weights (gathered from the Parameters for each run) and the moments, in the loop's flat layout */
  readonly #flat: { readonly layout: FlatSlot[]; theta: Float32Array; m: Float32Array; v: Float32Array }
  #steps = 0

  constructor(options: StepLoopTrainerOptions) {
    const [beta1, beta2] = options.betas ?? [0.9, 0.999]
    const eps = options.eps ?? 1e-8
    const weightDecay = options.weightDecay ?? 0.01
    requireFinite('beta1', beta1, 0, 1 - Number.EPSILON)
    requireFinite('beta2', beta2, 0, 1 - Number.EPSILON)
    requireFinite('eps', eps, 0)
    requireFinite('weight decay', weightDecay, 0)
    for (const name of options.graph.parameters)
      if (!options.params.has(name)) throw new SessionError(`no live parameter for '${name}'`)
    this.#o = options
    this.#header = { beta1, beta2, eps, weightDecay, amsgrad: false }
    const { layout, size } = flatLayout(options.graph, options.decays)
    this.#flat = {
      layout,
      theta: new Float32Array(size),
      m: new Float32Array(size),
      v: new Float32Array(size),
    }
  }

  /** optimizer steps taken so far */
  get steps(): number {
    return this.#steps
  }

  /**
   * One optimizer step per batch, in order, the k-th with learning rate `lrs[k]`, all in one
   * session run; returns each step's loss. The batches must share one shape.
   */
  async run(batches: readonly Readonly<Record<string, Tensor>>[], lrs: readonly number[]): Promise<number[]> {
    if (batches.length === 0) throw new SessionError('a step loop needs at least one batch')
    if (lrs.length !== batches.length)
      throw new SessionError(`${batches.length} batches but ${lrs.length} learning rates`)
    for (const lr of lrs) requireLr(lr)
    const stacked = stackBatches(batches)
    const { loop, session } = await this.#compiled.get({ ...batches[0] })
    const feeds: Record<string, Tensor> = {}
    for (const [input, feed] of loop.feeds.batch) {
      const t = stacked[input]
      if (t === undefined) throw new SessionError(`the batches have no '${input}'`)
      feeds[feed] = t
    }
    const flat = this.#flat
    for (const s of flat.layout) flat.theta.set(this.#o.params.get(s.name)!.value, s.offset)
    feeds[loop.feeds.params] = tensor('float32', [loop.size], flat.theta)
    feeds[loop.feeds.expAvg] = tensor('float32', [loop.size], flat.m)
    feeds[loop.feeds.expAvgSq] = tensor('float32', [loop.size], flat.v)
    const { beta1, beta2, weightDecay } = this.#header
    const coefficient = (f: (lr: number, t: number) => number) =>
      tensor(
        'float32',
        [lrs.length],
        Float32Array.from(lrs, (lr, k) => f(lr, this.#steps + k + 1)),
      )
    feeds[loop.feeds.stepSize] = coefficient((lr, t) => lr / (1 - beta1 ** t))
    feeds[loop.feeds.invBc2Sqrt] = coefficient((_, t) => 1 / Math.sqrt(1 - beta2 ** t))
    feeds[loop.feeds.decay] = coefficient((lr) => lr * weightDecay)
    const state = stateFeeds(this.#o.graph, loop.state)
    for (const [name, feed] of loop.feeds.state) feeds[feed] = state[name]
    const out = await session.run(feeds)
    const read = async (name: string) => {
      const t = await out[name].read()
      out[name].dispose()
      return t.data as Float32Array
    }
    // each output is a fresh array: it becomes the vector the next run feeds, uncopied (copying them
    // took three copies of every weight a run: 1.5 GB for GPT-2 small)
    flat.theta = await read(loop.outputs.params)
    flat.m = await read(loop.outputs.expAvg)
    flat.v = await read(loop.outputs.expAvgSq)
    for (const s of flat.layout) this.#o.params.get(s.name)!.value.set(this.#slot(flat.theta, s))
    for (const [name, output] of loop.outputs.state)
      (state[name].data as Float32Array).set(await read(output))
    const losses = Array.from(await read(loop.outputs.losses))
    this.#steps += batches.length
    return losses
  }

  /**
   * The moments in `adamw`'s checkpoint format (`<param>.exp_avg`, `<param>.exp_avg_sq`), viewing
   * them as they are now: a run replaces the vectors, never writes into them.
   */
  exportState(): OptimizerState {
    const tensors = new Map<string, Tensor>()
    for (const s of this.#flat.layout) {
      const param = this.#o.params.get(s.name)!
      tensors.set(`${s.name}.exp_avg`, bufferTensor(param, this.#slot(this.#flat.m, s)))
      tensors.set(`${s.name}.exp_avg_sq`, bufferTensor(param, this.#slot(this.#flat.v, s)))
    }
    return { kind: 'adamw', steps: this.#steps, options: { ...this.#header }, tensors }
  }

  importState(state: OptimizerState): void {
    checkStateHeader(state, 'adamw', this.#header)
    for (const s of this.#flat.layout) {
      const param = this.#o.params.get(s.name)!
      loadBuffer(state, param, 'exp_avg', this.#slot(this.#flat.m, s))
      loadBuffer(state, param, 'exp_avg_sq', this.#slot(this.#flat.v, s))
    }
    this.#steps = state.steps
  }

  async release(): Promise<void> {
    await this.#compiled.clear((c) => c.session.release())
  }

  #slot(flat: Float32Array, s: FlatSlot): Float32Array {
    return flat.subarray(s.offset, s.offset + s.length)
  }

  async #build(batch: Readonly<Record<string, Tensor>>): Promise<Compiled> {
    const { backend, graph, loss, decays, intraOpThreads } = this.#o
    const { beta1, beta2, eps } = this.#header
    const loop = buildStepLoop(graph, loss ?? 'loss', {
      bindings: bindSymbols(graph, batch),
      betas: [beta1, beta2],
      eps,
      decays,
    })
    const session = await backend.createSession(sessionModel(backend, loop.graph), {
      intraOpThreads,
      deviceOutputs: [],
    })
    return { loop, session }
  }
}

/** Each input of the batches stacked along a new leading axis (one copy). */
function stackBatches(batches: readonly Readonly<Record<string, Tensor>>[]): Record<string, Tensor> {
  const out: Record<string, Tensor> = {}
  for (const [name, first] of Object.entries(batches[0])) {
    const per = first.data.length
    const Data = first.data.constructor as new (n: number) => Tensor['data']
    const data = new Data(per * batches.length)
    batches.forEach((b, k) => {
      const t = b[name]
      if (t === undefined || t.dtype !== first.dtype || t.shape.join() !== first.shape.join())
        throw new SessionError(
          `batch ${k} has '${name}' ${t === undefined ? 'missing' : `${t.dtype}[${t.shape}]`}; batch 0 has ${first.dtype}[${first.shape}]`,
        )
      ;(data as Float32Array).set(t.data as Float32Array, k * per)
    })
    out[name] = tensor(first.dtype, [batches.length, ...first.shape], data as never)
  }
  return out
}
