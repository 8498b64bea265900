/**
 * DreamDDP's schedule on this mesh: which layers are averaged in which iteration of a period, solved
 * by sched's solver with fill-in (planDreamDdp) from the layers' all-reduce times over the measured
 * links and the compute an iteration's averaging overlaps with.
 *
 * How this runtime overlaps: backward is one session run, so no layer's values can be sent before it
 * ends. A replica starts averaging an iteration's layers right after its optimizer step, and the
 * averaging runs during the next iteration's forward and backward; every layer is ready at the start
 * of that window. So the solver's problem has every layer ready at once (bp = 0) and the window as
 * the tail: an iteration waits max(0, Σ comm of its layers − window), and the published model's
 * per-layer backward times do not enter it. (A runtime that ran backward layer by layer would pass
 * them as bp and start each layer's averaging as its gradient is ready.)
 *
 * The replicas must use the same schedule, so they agree on its inputs first: at the start of each
 * period a small all-reduce of [force, window, comm…] gives every replica the same mean bits, and
 * each decides from them alone whether to solve again (first period, a replica without a schedule,
 * or a time that moved by more than 20 %). Same inputs, same solver: same schedule everywhere.
 */
import type { Parameter } from '@atoll/runtime'
import { type DreamPlan, layersByIteration, planDreamDdp } from '@atoll/sched'
import { DREAMDDP_DRIFT } from './constants.ts'

/** The model's layers in backward order, and the parameters of each. */
export interface LayerLayout {
  names: string[]
  /** parameter indices of each layer */
  params: number[][]
  /** elements of each layer */
  elements: number[]
}

/** What a schedule is solved from: agreed by all replicas, so the same on every one. */
export interface PlanInputs {
  windowSeconds: number
  commSeconds: number[]
}

export interface SolvedSchedule {
  inputs: PlanInputs
  plan: DreamPlan
  /** layer indices averaged in each iteration, ascending (the FIFO order) */
  layersAt: number[][]
}

/** Layers in order of first appearance among `params` (forward), reversed: backward order. */
export function layerLayout(
  params: readonly Parameter[],
  layerOf: (paramName: string) => string,
): LayerLayout {
  const index = new Map<string, number>()
  const forward: { name: string; params: number[]; elements: number }[] = []
  params.forEach((p, i) => {
    const name = layerOf(p.name)
    let at = index.get(name)
    if (at === undefined) {
      at = forward.push({ name, params: [], elements: 0 }) - 1
      index.set(name, at)
    }
    forward[at].params.push(i)
    forward[at].elements += p.value.length
  })
  const backward = forward.reverse()
  return {
    names: backward.map((l) => l.name),
    params: backward.map((l) => l.params),
    elements: backward.map((l) => l.elements),
  }
}

/** A parameter's layer by default: its name up to the last dot (`fc1.weight` → `fc1`). */
export function defaultLayerOf(paramName: string): string {
  const dot = paramName.lastIndexOf('.')
  return dot > 0 ? paramName.slice(0, dot) : paramName
}

/** The values a replica contributes to the period's agreement. */
export function controlVector(force: boolean, inputs: PlanInputs): Float32Array {
  return Float32Array.from([force ? 1 : 0, inputs.windowSeconds, ...inputs.commSeconds])
}

/** The agreed (mean) control vector read back. */
export function readControl(mean: Float32Array): { force: boolean; inputs: PlanInputs } {
  return { force: mean[0] > 0, inputs: { windowSeconds: mean[1], commSeconds: Array.from(mean.subarray(2)) } }
}

/** Why the schedule must be solved again, if it must. */
export function solveReason(
  current: PlanInputs | undefined,
  agreed: PlanInputs,
  force: boolean,
): 'first' | 'forced' | 'drift' | undefined {
  if (current === undefined) return 'first'
  if (force) return 'forced'
  const moved = (was: number, is: number) => Math.abs(is - was) > DREAMDDP_DRIFT * was
  if (moved(current.windowSeconds, agreed.windowSeconds)) return 'drift'
  return agreed.commSeconds.some((c, l) => moved(current.commSeconds[l], c)) ? 'drift' : undefined
}

export function solveSchedule(layout: LayerLayout, inputs: PlanInputs, period: number): SolvedSchedule {
  const plan = planDreamDdp({
    names: layout.names,
    bp: layout.names.map(() => 0),
    comm: inputs.commSeconds,
    tail: inputs.windowSeconds,
    period,
  })
  const layersAt = layersByIteration(
    layout.names.map((name) => plan.schedule[name]),
    period,
  )
  return { inputs, plan, layersAt }
}
