import { InvalidFieldError, ProfileParseError, UnknownReferenceError } from '../errors.ts'
import type { SyncProblem } from './model.ts'

/** Layer name → seconds, as in `bp.json` / `comm.json` (forward order). */
export type LayerTimes = Record<string, number>

/**
 * Parses a layer-times file. The published profiles contain bare `NaN` values (Python's json
 * module writes them), which JSON.parse rejects; they, `null` and missing layers count as 0.
 * Anything else that is not a finite number ≥ 0 is an InvalidFieldError naming the layer.
 */
export function parseLayerTimes(text: string, file = 'layer times'): LayerTimes {
  let raw: unknown
  try {
    raw = JSON.parse(text.replace(/:\s*NaN\s*(?=[,}\s])/g, ': null'))
  } catch (err) {
    throw new ProfileParseError(`${file}: not JSON: ${(err as Error).message}`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidFieldError(file, 'an object of layer name → seconds', raw)
  }
  const out: LayerTimes = {}
  for (const [name, v] of Object.entries(raw)) {
    if (v === null) out[name] = 0
    else if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out[name] = v
    else throw new InvalidFieldError(`${file}["${name}"]`, 'seconds, a finite number ≥ 0 (or NaN)', v)
  }
  return out
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
  if (!Number.isInteger(period) || period < 1 || period > 255) {
    throw new InvalidFieldError('period', 'an integer in [1, 255]', period)
  }
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
  return { names, bp: bpOut, comm: commOut, tail: pending, period }
}

/**
 * A published `reference-schedule.json` (`{ H, schedule: { layer: iteration } }`) as iterations per
 * layer of `problem` (each layer of the problem must be scheduled, iterations within 0…H−1).
 */
export function parseReferenceSchedule(raw: unknown, problem: SyncProblem, file = 'schedule'): number[][] {
  if (typeof raw !== 'object' || raw === null) throw new InvalidFieldError(file, 'an object', raw)
  const { H, schedule } = raw as { H?: unknown; schedule?: unknown }
  if (H !== problem.period) throw new InvalidFieldError(`${file}.H`, `the period ${problem.period}`, H)
  if (typeof schedule !== 'object' || schedule === null) {
    throw new InvalidFieldError(`${file}.schedule`, 'an object of layer → iteration', schedule)
  }
  const table = schedule as Record<string, unknown>
  return problem.names.map((name) => {
    const v = table[name]
    const list = Array.isArray(v) ? v : [v]
    for (const h of list) {
      if (!Number.isInteger(h) || (h as number) < 0 || (h as number) >= problem.period) {
        throw new InvalidFieldError(`${file}.schedule["${name}"]`, `iterations in 0…${problem.period - 1}`, v)
      }
    }
    return [...new Set(list as number[])].sort((a, b) => a - b)
  })
}
