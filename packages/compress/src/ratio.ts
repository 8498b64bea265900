import { InvalidOptionError } from './errors.ts'

/** Smallest keep ratio by default: below 0.1 % top-k error feedback converges poorly. */
export const MIN_KEEP_RATIO = 0.001

export interface KeepRatioInput {
  /** bytes the tensor takes uncompressed */
  bytes: number
  /** bandwidth of the link it crosses, bytes per second */
  bandwidthBps: number
  /** time the transfer may take: the compute it overlaps (the slowest segment's), seconds */
  targetSeconds: number
  /** lower clamp (default 0.001) */
  min?: number
  /** upper clamp (default 1: send everything) */
  max?: number
}

/**
 * The AdaTopK keep ratio: ρ = clamp(targetSeconds × bandwidthBps / bytes, min, max), the largest
 * fraction whose transfer takes no longer than the compute it overlaps.
 */
export function keepRatio(input: KeepRatioInput): number {
  const { bytes, bandwidthBps, targetSeconds, min = MIN_KEEP_RATIO, max = 1 } = input
  finite(bytes, 'bytes', 0)
  finite(targetSeconds, 'targetSeconds', 0)
  if (!(bandwidthBps > 0) || !Number.isFinite(bandwidthBps)) {
    throw new InvalidOptionError(`bandwidthBps must be a positive number, got ${bandwidthBps}`)
  }
  if (!(min > 0 && min <= max && max <= 1)) {
    throw new InvalidOptionError(`keep ratio bounds need 0 < min ≤ max ≤ 1, got min ${min}, max ${max}`)
  }
  if (bytes === 0) return max
  const ratio = (targetSeconds * bandwidthBps) / bytes
  return Math.min(max, Math.max(min, ratio))
}

/** k for a keep ratio over n elements: rounded, at least 1 of a non-empty tensor, at most n. */
export function keepCount(length: number, ratio: number): number {
  if (!Number.isSafeInteger(length) || length < 0)
    throw new InvalidOptionError(`n must be a non-negative integer, got ${length}`)
  if (!(ratio >= 0 && ratio <= 1)) throw new InvalidOptionError(`ratio must be in [0, 1], got ${ratio}`)
  if (length === 0 || ratio === 0) return 0
  return Math.min(length, Math.max(1, Math.round(length * ratio)))
}

function finite(value: number, field: string, min: number): void {
  if (!Number.isFinite(value) || value < min) {
    throw new InvalidOptionError(`${field} must be a finite number ≥ ${min}, got ${value}`)
  }
}
