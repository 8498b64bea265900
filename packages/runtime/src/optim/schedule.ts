import * as z from 'zod/mini'
import { OptimizerConfigError } from '../errors.ts'

const rate = z.number().check(z.gte(0))
const stepCount = z.int().check(z.gte(0))

const cosine = z
  .strictObject({
    kind: z.literal('cosine'),
    /** peak learning rate, reached at the end of warm-up */
    lr: rate,
    /** linear warm-up from 0 over this many steps (default 0) */
    warmupSteps: z.optional(stepCount),
    /** step at which the cosine reaches `minLr` */
    totalSteps: stepCount,
    /** floor of the decay (default 0) */
    minLr: z.optional(rate),
  })
  .check(
    // the rules that span fields, each reported at the field a user would change
    z.superRefine((schedule, ctx) => {
      const atMost = (key: 'warmupSteps' | 'minLr', limit: number, expected: string) => {
        const value = schedule[key] ?? 0
        if (value > limit) ctx.issues.push({ code: 'custom', path: [key], input: value, message: expected })
      }
      atMost('warmupSteps', schedule.totalSteps, `an integer ≤ the total steps (${schedule.totalSteps})`)
      atMost('minLr', schedule.lr, `a number ≤ the peak lr (${schedule.lr})`)
    }),
  )

/**
 * A learning-rate schedule as data, so job files and checkpoints can record it: each kind takes its
 * own fields only, a cosine's warm-up fits in its steps and its floor stays under its peak.
 */
export const lrSchedule = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant'), lr: rate }),
  cosine,
])

export type LrSchedule = z.infer<typeof lrSchedule>

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
