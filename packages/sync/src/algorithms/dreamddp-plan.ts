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
 * The layers' all-reduce times are the link model's (chooseAllReduce) times the ratio of what the
 * last period's rounds took to what the model gave them: peers that compute while they average move
 * bytes slower than their links alone allow (on the sync bench's shared cores, about 2×). Fill-in
 * leaves DREAMDDP_FILL_HEADROOM of each window free.
 *
 * The replicas must use the same schedule, so they agree on its inputs first: at the start of each
 * period a small all-reduce of [force, window, comm…] gives every replica the same mean bits, and
 * each decides from them alone whether to solve again (first period, a replica without a schedule,
 * or a time that moved by more than 20 %). Same inputs, same solver: same schedule everywhere.
 */
import type { Parameter } from '@atoll/runtime'
import { type DreamPlan, layersByIteration, planDreamDdp } from '@atoll/sched'
import { DREAMDDP_DRIFT, DREAMDDP_FILL_HEADROOM } from './constants.ts'

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
  /** each iteration's wait under the model with the inputs' window (the solver may have seen a narrower one) */
  waitPerIteration: number[]
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

/**
 * The schedule of `inputs`. Before any window has been measured (a run's first period, with no
 * profiled backward) the window is taken as just long enough to spread one averaging of every layer
 * evenly over the period, without fill-in: the solver then balances the layers' times over the
 * iterations, and the first period measures what the next one is solved from.
 *
 * Without fill-in (a replica computing on the CPU) the solver also sees a window no longer than that
 * even share: every byte then costs compute time, so the averaging is spread over the whole period
 * rather than loading some iterations and leaving the rest idle, which wait alone would allow.
 * The waits reported are those of the real window.
 */
export function solveSchedule(
  layout: LayerLayout,
  inputs: PlanInputs,
  period: number,
  fillIn = true,
): SolvedSchedule {
  const window = inputs.windowSeconds
  const measured = window > 0
  const even = inputs.commSeconds.reduce((a, b) => a + b, 0) / period
  const filled = fillIn && measured
  const plan = planDreamDdp(
    {
      names: layout.names,
      bp: layout.names.map(() => 0),
      comm: inputs.commSeconds,
      tail: filled ? window : measured ? Math.min(window, even) : even,
      period,
    },
    { fillIn: filled, fillInHeadroom: DREAMDDP_FILL_HEADROOM },
  )
  const layersAt = layersByIteration(
    layout.names.map((name) => plan.schedule[name]),
    period,
  )
  const waitPerIteration = measured
    ? layersAt.map((ls) => Math.max(0, ls.reduce((sum, l) => sum + inputs.commSeconds[l], 0) - window))
    : plan.waitPerIteration
  return { inputs, plan, layersAt, waitPerIteration }
}

/** How one measured iteration's averaging and window compared with the plan's: 1 is as planned. */
export interface Variation {
  /** the round's seconds / the modelled seconds of its layers */
  comm: number
  /** the window's seconds / the period's mean window */
  window: number
}

/**
 * The wait a period of `solved` is expected to have, given how the last period's iterations varied
 * around the plan's times: each iteration that averages anything waits max(0, C·c − W·w) for a
 * variation (c, w) drawn from those measured, C its layers' time and W the window. With no variation
 * this is the solver's own wait; a schedule with slack still waits in the iterations that ran slow,
 * which the deterministic wait never predicts.
 */
export function expectedWait(solved: SolvedSchedule, variations: readonly Variation[]): number {
  const { windowSeconds, commSeconds } = solved.inputs
  if (variations.length === 0 || windowSeconds <= 0) return solved.waitPerIteration.reduce((a, b) => a + b, 0)
  let total = 0
  for (const layers of solved.layersAt) {
    if (layers.length === 0) continue
    const comm = layers.reduce((sum, l) => sum + commSeconds[l], 0)
    for (const v of variations) total += Math.max(0, comm * v.comm - windowSeconds * v.window)
  }
  return total / variations.length
}
