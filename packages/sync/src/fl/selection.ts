/**
 * Which registered clients a round selects: max(minClients, ⌈fraction·n⌉) of the n registered ones
 * (fewer than minClients registered is NotEnoughClientsError), drawn with core's seededRandom from a seed made of the run's seed and the
 * round. A round's selection depends on (seed, round, the registered ids) only — not on the order
 * clients registered in or on earlier rounds — so a server resumed at round r selects what it would
 * have selected.
 */
import { seededRandom } from '@atoll/core'
import { FlOptionError, NotEnoughClientsError } from './errors.ts'

export interface SelectionOptions {
  /** fraction of the registered clients to select, in (0, 1] */
  fraction: number
  /** the fewest clients a round may run with (≥ 1) */
  minClients: number
  seed: number
}

// 0.3 × 10 is 3.0000000000000004 in binary floating point; ⌈·⌉ must still give 3.
const FRACTION_SLACK = 1e-9
// Golden-ratio multiplier: spreads consecutive rounds over the generator's seed space.
const ROUND_MIX = 0x9e3779b1

export function checkSelection(options: SelectionOptions): void {
  const { fraction, minClients, seed } = options
  if (!(fraction > 0 && fraction <= 1)) throw new FlOptionError(`fraction must be in (0, 1], got ${fraction}`)
  if (!Number.isSafeInteger(minClients) || minClients < 1)
    throw new FlOptionError(`minClients must be an integer ≥ 1, got ${minClients}`)
  if (!Number.isSafeInteger(seed)) throw new FlOptionError(`seed must be an integer, got ${seed}`)
}

/** The selected client ids, sorted (the order the round aggregates in). */
export function selectClients(
  registered: readonly string[],
  round: number,
  options: SelectionOptions,
): string[] {
  const ids = [...registered].sort()
  if (ids.length < options.minClients) {
    throw new NotEnoughClientsError(
      `round ${round} needs at least ${options.minClients} clients, ${ids.length} registered`,
    )
  }
  const count = Math.max(options.minClients, Math.ceil(options.fraction * ids.length - FRACTION_SLACK))
  const random = seededRandom((Math.imul(round + 1, ROUND_MIX) ^ options.seed) >>> 0)
  // Partial Fisher–Yates: the first `count` places are a uniform sample without replacement.
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (ids.length - i))
    ;[ids[i], ids[j]] = [ids[j], ids[i]]
  }
  return ids.slice(0, count).sort()
}
