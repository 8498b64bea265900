import { parseJson } from '@atoll/core'
import * as z from 'zod/mini'
import { InvalidFieldError, ProfileParseError, UnknownReferenceError } from '../errors.ts'
import { parseField, syncPeriod } from '../validate.ts'
import type { SyncProblem } from './model.ts'

/** Layer name → seconds, as in `bp.json` / `comm.json` (forward order). */
export type LayerTimes = Record<string, number>

const SECONDS = 'seconds, a finite number ≥ 0 (or NaN)'
/** `null` stands for the NaN the file had (see parseLayerTimes). */
const layerTimes = z.record(
  z.string(),
  z.nullable(z.number({ error: SECONDS }).check(z.nonnegative({ error: SECONDS }))),
)

/**
 * Parses a layer-times file. The published profiles contain bare `NaN` values (Python's json
 * module writes them), which JSON.parse rejects; they, `null` and missing layers count as 0.
 * Anything else that is not a finite number ≥ 0 is an InvalidFieldError naming the layer.
 */
export function parseLayerTimes(text: string, file = 'layer times'): LayerTimes {
  const raw = parseJson(text.replace(/:\s*NaN\s*(?=[,}\s])/g, ': null'), file, ProfileParseError)
  const times = parseField(layerTimes, raw, file)
  return Object.fromEntries(Object.entries(times).map(([name, t]) => [name, t ?? 0]))
}

/**
 * The scheduling problem of a profile. Synchronised layers are those of `comm` (in the Qwen
 * profiles `bp` also times modules that have no trainable parameters or are frozen); each must be
 * timed in `bp` too — a `comm` layer `bp` lacks means the two files describe different models, an
 * UnknownReferenceError rather than a silently free backward. Module order is `bp`'s key order
 * (forward), reversed for backward. The backward time of a module that is not synchronised is folded
 * into the next synchronised layer in backward order — its gradient is ready only after those
 * modules ran — and what runs after the last one becomes `tail`. So Σ bp + tail is the whole
 * backward pass of the profile, as in the published model (its S-SGD time is Σ bp + Σ comm).
 */
export function syncProblem(bp: LayerTimes, comm: LayerTimes, period: number): SyncProblem {
  const H = parseField(syncPeriod, period, 'period')
  const commNames = Object.keys(comm)
  if (commNames.length === 0) throw new InvalidFieldError('comm', 'at least one synchronised layer', comm)
  const missing = commNames.filter((name) => !Object.hasOwn(bp, name))
  if (missing.length > 0) {
    throw new UnknownReferenceError(
      `${missing.length} of ${commNames.length} comm layers have no backward time in bp (first: '${missing[0]}'): the files describe different models`,
    )
  }
  const forward = Object.keys(bp)
  const names: string[] = []
  const bpOut: number[] = []
  const commOut: number[] = []
  let pending = 0
  for (let i = forward.length - 1; i >= 0; i--) {
    const name = forward[i]
    pending += bp[name] ?? 0
    if (!Object.hasOwn(comm, name)) continue
    names.push(name)
    bpOut.push(pending)
    commOut.push(comm[name])
    pending = 0
  }
  return { names, bp: bpOut, comm: commOut, tail: pending, period: H }
}

/**
 * A published `reference-schedule.json` (`{ H, schedule: { layer: iteration } }`) as iterations per
 * layer of `problem` (each layer of the problem must be scheduled, iterations within 0…H−1).
 */
export function parseReferenceSchedule(raw: unknown, problem: SyncProblem, file = 'schedule'): number[][] {
  const iteration = z.int().check(z.gte(0), z.lt(problem.period))
  const layers = problem.names.map((name) => [name, z.union([iteration, z.array(iteration)])])
  const reference = z.object({
    H: z.literal(problem.period, { error: `the period ${problem.period}` }),
    schedule: z.object(Object.fromEntries(layers)),
  })
  const { schedule } = parseField(reference, raw, file)
  return problem.names.map((name) => {
    const at = schedule[name] as number | number[]
    return [...new Set(Array.isArray(at) ? at : [at])].sort((a, b) => a - b)
  })
}
