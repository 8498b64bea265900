/**
 * DreamDDP: partial local SGD. In iteration i of each period of H, the replicas average the
 * parameters of the layers the schedule gives i (every layer at least once a period), one layer's
 * all-reduce after another in backward order (the solver's FIFO channel).
 *
 * Overlap in this runtime (see dreamddp-plan.ts): `parameters(step)` snapshots the scheduled layers
 * right after the optimizer step and starts their averaging without waiting; the caller goes on with
 * the next iteration's forward and backward; `gradients(step + 1)` (or `settle()`) waits for the
 * averaging and applies it as θ ← θ + (mean − θ_sent), so any local progress made meanwhile is kept.
 * The time blocked there is the measured wait. The schedule is solved from the measured window and
 * the layers' all-reduce times (the link model's, scaled by what the last period's rounds took); the
 * predicted wait is the schedule's wait, with this replica's own times, under the variation of the
 * last two periods' iterations (expectedWait); each period's pair is recorded (a `period` event), with
 * the layers averaged.
 *
 * A replica left out of a layer round keeps its own values for those layers. The schedule is agreed
 * at each period's start (a small all-reduce, blocking); a replica left out of that one takes the
 * agreed values from a member that took part, or, if none come, can no longer know the schedule and
 * fails with ReplicaDivergedError (admit it again).
 */
import type { Parameter } from '@atoll/runtime'
import { wireRatio } from '../codec.ts'
import type { SyncGroup } from '../group.ts'
import { chooseAllReduce } from '../time-model.ts'
import { SynchronizerBase } from './base.ts'
import {
  controlVector,
  defaultLayerOf,
  expectedWait,
  type LayerLayout,
  layerLayout,
  type PlanInputs,
  readControl,
  type SolvedSchedule,
  solveReason,
  solveSchedule,
  type Variation,
} from './dreamddp-plan.ts'
import { ReplicaDivergedError, SynchronizerUsageError } from './errors.ts'
import type { RoundResult } from './rounds.ts'
import type { SynchronizerSpec } from './spec.ts'
import type { SynchronizerOptions } from './synchronizer.ts'

const PLAN_STATE = 'dreamddp.plan'

interface Pending {
  result: Promise<RoundResult>
  params: readonly Parameter[]
  layers: number[]
  sent: Float32Array[]
  iteration: number
  /** the link model's seconds for these layers' averaging */
  modelled: number
}

interface PeriodRecord {
  period: number
  layers: string[][]
  measured: number
  predicted: number
  agreement: number
}

export class DreamDdpSynchronizer extends SynchronizerBase {
  #layout: LayerLayout | undefined
  #solvedFrom: PlanInputs | undefined
  #schedule: SolvedSchedule | undefined
  #pending: Pending | undefined
  #record: PeriodRecord | undefined
  #windowStart: number | undefined
  #window = { seconds: 0, count: 0 }
  /** the window just measured: the one the round being settled overlapped */
  #lastWindow: number | undefined
  /** this period's rounds that went to plan: their seconds, the link model's, and their window */
  #samples: { round: number; modelled: number; window: number }[] = []
  /** measured / modelled averaging time, from the last period that averaged anything */
  #commScale = 1
  /** how the last two measured periods' iterations varied around their mean times */
  #variations: Variation[] = []
  #lastVariations: Variation[] = []
  /** the link model's all-reduce seconds of each layer */
  #modelComm: number[] = []

  constructor(spec: SynchronizerSpec, group: SyncGroup, options: SynchronizerOptions) {
    super(spec, group, options)
  }

  async gradients(): Promise<void> {
    if (this.#windowStart !== undefined) {
      this.#lastWindow = (performance.now() - this.#windowStart) / 1000
      this.#window.seconds += this.#lastWindow
      this.#window.count++
      this.#windowStart = undefined
    }
    await this.settle()
  }

  async parameters(step: number, params: readonly Parameter[]): Promise<void> {
    await this.settle()
    const layout = this.#layoutOf(params)
    const iteration = step % this.spec.period
    if (iteration === 0) await this.#agree(step, Math.floor(step / this.spec.period), layout)
    const schedule = this.#scheduleOf(layout)
    const layers = schedule.layersAt[iteration]
    if (layers.length > 0) this.#start(step, iteration, params, layers)
    else this.#noteIteration(iteration, [], 0)
    this.#windowStart = performance.now()
  }

  override async settle(): Promise<void> {
    // settled before the next backward ended (a checkpoint): this iteration's window is not a measure
    this.#windowStart = undefined
    const pending = this.#pending
    if (pending === undefined) return
    this.#pending = undefined
    const started = performance.now()
    const result = await pending.result
    const waited = (performance.now() - started) / 1000
    // a round that went to plan measures the channel; a retry's or a catch-up's time measures a late replica
    const window = this.#lastWindow
    this.#lastWindow = undefined
    if (result.included && !result.caughtUp && result.attempts === 1 && window !== undefined)
      this.#samples.push({ round: result.seconds, modelled: pending.modelled, window })
    const means = result.means
    if (means !== undefined) {
      pending.layers.forEach((l, k) => {
        this.#apply(pending.params, l, pending.sent[k], means.get(`l${l}`) as Float32Array)
      })
    }
    const names = result.included ? pending.layers.map((l) => (this.#layout as LayerLayout).names[l]) : []
    this.#noteIteration(pending.iteration, names, waited)
  }

  /** θ ← θ + (mean − θ_sent) for each parameter of layer `layer`. */
  #apply(params: readonly Parameter[], layer: number, sent: Float32Array, mean: Float32Array): void {
    let offset = 0
    for (const i of (this.#layout as LayerLayout).params[layer]) {
      const value = params[i].value
      for (let k = 0; k < value.length; k++) value[k] += mean[offset + k] - sent[offset + k]
      offset += value.length
    }
  }

  /** Snapshots the layers and starts their averaging; settle() finishes it. */
  #start(step: number, iteration: number, params: readonly Parameter[], layers: number[]): void {
    const layout = this.#layout as LayerLayout
    const sent = layers.map((l) => {
      const out = new Float32Array(layout.elements[l])
      let offset = 0
      for (const i of layout.params[l]) {
        out.set(params[i].value, offset)
        offset += params[i].value.length
      }
      return out
    })
    const tensors = layers.map((l, k) => ({ name: `l${l}`, data: sent[k] }))
    const result = this.runNextRound({
      step,
      what: 'layers',
      tensors,
      compression: this.spec.compression,
      sequential: true,
    })
    result.catch(() => {}) // awaited in settle(); not an unhandled rejection meanwhile
    const modelled = layers.reduce((sum, l) => sum + (this.#modelComm[l] ?? 0), 0)
    this.#pending = { result, params, layers, sent, iteration, modelled }
  }

  /** The period's agreement on the schedule's inputs, and a new schedule when they call for one. */
  async #agree(step: number, period: number, layout: LayerLayout): Promise<void> {
    this.#flushRecord()
    const started = performance.now()
    const mine = this.#measuredInputs(layout)
    const data = controlVector(this.#solvedFrom === undefined, mine)
    const result = await this.runNextRound({
      step,
      what: 'plan',
      tensors: [{ name: 'plan', data }],
      compression: { codec: 'none' },
      adopt: true,
    })
    const mean = result.means?.get('plan')
    if (mean === undefined)
      throw new ReplicaDivergedError(
        `dreamddp: left out of period ${period}'s schedule and not caught up: admit this replica again`,
      )
    const agreed = readControl(mean)
    const reason = solveReason(this.#solvedFrom, agreed.inputs, agreed.force)
    if (reason !== undefined) {
      this.#solvedFrom = agreed.inputs
      this.#schedule = solveSchedule(layout, agreed.inputs, this.spec.period, this.options.fillIn)
      this.#emitSchedule(period, reason, layout, this.#schedule)
    }
    // the agreed schedule, with this replica's own times: replicas that compute faster wait longer
    const own = mine.windowSeconds > 0 ? mine : agreed.inputs
    const predicted = expectedWait({ ...this.#scheduleOf(layout), inputs: own }, this.#variations)
    const agreement = (performance.now() - started) / 1000
    this.#record = { period, layers: [], measured: 0, predicted, agreement }
  }

  /**
   * This replica's window (measured last period, else the profiled backward) and the layers'
   * all-reduce times: the link model's, times what the last period's rounds took over what the model
   * gave them (a mesh whose peers also compute moves bytes slower than its links alone allow).
   */
  #measuredInputs(layout: LayerLayout): PlanInputs {
    const profiled = Object.values(this.options.backwardSeconds ?? {}).reduce((a, b) => a + b, 0)
    const windowSeconds = this.#window.count > 0 ? this.#window.seconds / this.#window.count : profiled
    this.#window = { seconds: 0, count: 0 }
    this.#measureComm(windowSeconds)
    const ratio = wireRatio(this.spec.compression)
    this.#modelComm = layout.elements.map(
      (n) => chooseAllReduce(this.members, this.links, 4 * n, { wireRatio: ratio }).predictedSeconds,
    )
    const commSeconds = this.#modelComm.map((seconds) => seconds * this.#commScale)
    return { windowSeconds, commSeconds }
  }

  /** The comm scale from this period's samples, the variations from its and the last one's; kept when it has none. */
  #measureComm(windowSeconds: number): void {
    const samples = this.#samples.filter((s) => s.modelled > 0)
    this.#samples = []
    if (samples.length === 0 || windowSeconds <= 0) return
    const scale = samples.reduce((a, s) => a + s.round, 0) / samples.reduce((a, s) => a + s.modelled, 0)
    this.#commScale = scale
    const fresh = samples.map((s) => ({
      comm: s.round / (scale * s.modelled),
      window: s.window / windowSeconds,
    }))
    // two periods' variation: a short period alone gives a handful of samples
    this.#variations = [...this.#lastVariations, ...fresh]
    this.#lastVariations = fresh
  }

  #scheduleOf(layout: LayerLayout): SolvedSchedule {
    if (this.#schedule === undefined && this.#solvedFrom !== undefined)
      this.#schedule = solveSchedule(layout, this.#solvedFrom, this.spec.period, this.options.fillIn)
    if (this.#schedule === undefined)
      throw new SynchronizerUsageError(
        'dreamddp: no schedule yet (the first step of a run must be a period start)',
      )
    return this.#schedule
  }

  #layoutOf(params: readonly Parameter[]): LayerLayout {
    this.#layout ??= layerLayout(params, this.options.layerOf ?? defaultLayerOf)
    return this.#layout
  }

  #noteIteration(iteration: number, layers: string[], waited: number): void {
    const record = this.#record
    if (record === undefined) return
    record.layers[iteration] = layers
    record.measured += waited
    if (iteration === this.spec.period - 1) this.#flushRecord()
  }

  #flushRecord(): void {
    const record = this.#record
    if (record === undefined) return
    this.#record = undefined
    const layers = Array.from({ length: this.spec.period }, (_, i) => record.layers[i] ?? [])
    this.emit({
      kind: 'period',
      period: record.period,
      layers,
      predictedWaitSeconds: record.predicted,
      measuredWaitSeconds: record.measured,
      agreementSeconds: record.agreement,
    })
  }

  #emitSchedule(
    period: number,
    reason: 'first' | 'drift' | 'forced',
    layout: LayerLayout,
    solved: SolvedSchedule,
  ): void {
    this.emit({
      kind: 'schedule',
      period,
      reason,
      schedule: solved.plan.schedule,
      waitPerIteration: solved.waitPerIteration,
      windowSeconds: solved.inputs.windowSeconds,
      commSeconds: Object.fromEntries(layout.names.map((name, l) => [name, solved.inputs.commSeconds[l]])),
    })
  }

  protected stateTemplate(params: readonly Parameter[]): Map<string, number> {
    return new Map([[PLAN_STATE, 2 + this.#layoutOf(params).names.length]])
  }

  protected stateTensors(): Map<string, Float32Array> {
    const solved = this.#solvedFrom
    if (solved !== undefined) return new Map([[PLAN_STATE, controlVector(true, solved)]])
    // no schedule yet: a joiner learns so (flag 0) and forces one at the next period's start
    const layers = this.#layout?.names.length
    return layers === undefined ? new Map() : new Map([[PLAN_STATE, new Float32Array(2 + layers)]])
  }

  protected loadState(tensors: ReadonlyMap<string, Float32Array>): void {
    const values = tensors.get(PLAN_STATE)
    this.#schedule = undefined
    this.#solvedFrom = values !== undefined && values[0] > 0 ? readControl(values).inputs : undefined
  }
}
