import { parseSyncProblem } from '../validate.ts'
import { solveExact } from './exact.ts'
import { fillIn } from './fillin.ts'
import { iterationWait, scheduleWaits, type SyncProblem, sum, timeline } from './model.ts'

/** Modelled average iteration times (seconds) of the algorithms DreamDDP is compared with. */
export interface SyncBaselines {
  /** S-SGD, all-reduce after backward: T + Σ comm */
  ssgd: number
  /** S-SGD with every layer's all-reduce overlapped with backward (the FIFO model, all layers) */
  ssgdOverlapped: number
  /** Local SGD: all layers averaged after backward once per period: T + Σ comm / H */
  localSgd: number
}

/** The DreamDDP plan of one profile: what `atoll plan dreamddp` writes. */
export interface DreamPlan {
  /** layer name → iterations (0…H−1) in which it is synchronised, after fill-in */
  schedule: Record<string, number[]>
  period: number
  /** wait of each iteration of the period, seconds */
  waitPerIteration: number[]
  waitPerPeriod: number
  /** modelled average iteration time: backward time + waitPerPeriod / H */
  iterationTime: number
  baselines: SyncBaselines
  /** whether the wait is proven minimal under the model, and a proven lower bound on it */
  optimal: boolean
  lowerBound: number
  /** synchronisations per period before and after fill-in */
  syncs: { solved: number; filled: number }
}

export interface DreamPlanOptions {
  /** add syncs where the channel is idle (default true) */
  fillIn?: boolean
  /** fill-in leaves this fraction of the backward time free in each channel (default 0; see fillIn) */
  fillInHeadroom?: number
  /** see ExactOptions.maxStates */
  maxStates?: number
}

/** Solves, fills in and evaluates a DreamDDP schedule. Forward time is not modelled (as published). */
export function planDreamDdp(input: SyncProblem, options: DreamPlanOptions = {}): DreamPlan {
  const problem = parseSyncProblem(input)
  const solved = solveExact(problem, { maxStates: options.maxStates })
  const single = solved.iterationOfLayer.map((h) => [h])
  const iterations = options.fillIn === false ? single : fillIn(problem, single, options.fillInHeadroom)
  const waitPerIteration = scheduleWaits(iterations, problem)
  const waitPerPeriod = sum(waitPerIteration)
  const T = timeline(problem).backwardEnd
  return {
    schedule: Object.fromEntries(problem.names.map((name, l) => [name, iterations[l]])),
    period: problem.period,
    waitPerIteration,
    waitPerPeriod,
    iterationTime: T + waitPerPeriod / problem.period,
    baselines: syncBaselines(problem),
    optimal: solved.optimal,
    lowerBound: solved.lowerBound,
    syncs: { solved: single.length, filled: sum(iterations.map((its) => its.length)) },
  }
}

export function syncBaselines(problem: SyncProblem): SyncBaselines {
  const T = timeline(problem).backwardEnd
  const all = problem.comm.map((_, l) => l)
  const totalComm = sum(problem.comm)
  return {
    ssgd: T + totalComm,
    ssgdOverlapped: T + iterationWait(all, problem),
    localSgd: T + totalComm / problem.period,
  }
}
