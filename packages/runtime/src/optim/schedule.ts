import { OptimizerConfigError } from '../errors.ts'

/** A learning-rate schedule as data, so job files and checkpoints can record it. */
export type LrSchedule =
  | { kind: 'constant'; lr: number }
  | {
      kind: 'cosine'
      /** peak learning rate, reached at the end of warm-up */
      lr: number
      /** linear warm-up from 0 over this many steps (default 0) */
      warmupSteps?: number
      /** step at which the cosine reaches `minLr` */
      totalSteps: number
      /** floor of the decay (default 0) */
      minLr?: number
    }

/**
 * The learning rate for 0-based `step`. Cosine follows Hugging Face's
 * get_cosine_schedule_with_warmup (lr·step/warmup, then lr·½(1+cos(π·progress))), generalised with
 * a floor `minLr`; past `totalSteps` it stays at the floor instead of rising again.
 */
export function lrAt(schedule: LrSchedule, step: number): number {
  if (!Number.isInteger(step) || step < 0)
    throw new OptimizerConfigError(`step must be an integer ≥ 0, got ${step}`)
  if (schedule.kind === 'constant') return schedule.lr
  const warmup = schedule.warmupSteps ?? 0
  const minLr = schedule.minLr ?? 0
  if (step < warmup) return (schedule.lr * step) / warmup
  const span = Math.max(1, schedule.totalSteps - warmup)
  const progress = Math.min(1, (step - warmup) / span)
  return minLr + (schedule.lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress))
}

/** Validates a schedule (from a job file or flags) before a run starts. */
export function checkSchedule(schedule: LrSchedule): LrSchedule {
  const ok = (v: number | undefined, min = 0) => v === undefined || (Number.isFinite(v) && v >= min)
  if (!ok(schedule.lr)) throw new OptimizerConfigError(`lr must be ≥ 0, got ${schedule.lr}`)
  if (schedule.kind === 'constant') return schedule
  if (schedule.kind !== 'cosine') {
    throw new OptimizerConfigError(`unknown schedule '${(schedule as { kind: string }).kind}'`)
  }
  const { warmupSteps = 0, totalSteps, minLr = 0 } = schedule
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) {
    throw new OptimizerConfigError(`warm-up steps must be an integer ≥ 0, got ${warmupSteps}`)
  }
  if (!Number.isInteger(totalSteps) || totalSteps < warmupSteps) {
    throw new OptimizerConfigError(
      `total steps must be an integer ≥ warm-up (${warmupSteps}), got ${totalSteps}`,
    )
  }
  if (!ok(minLr) || minLr > schedule.lr) {
    throw new OptimizerConfigError(`min lr must be in [0, lr=${schedule.lr}], got ${minLr}`)
  }
  return schedule
}
