/** Defaults of the scheduler, each with the reason for its value. */
import { INT8_BLOCK } from '@atoll/compress'

/**
 * States kept per layer by the exact DreamDDP search before it degrades to a beam. With it, seven
 * of the eight shared profiles are solved provably optimally in well under a second each; the
 * Pareto filter is quadratic in the front, so a wider front costs much more time for a gap that
 * is already < 0.5 % of the wait on the eighth (gpt2-16w-5gbit: 1024 states take ~8 s for 0.08 %).
 */
export const DEFAULT_MAX_STATES = 256

/** Backward costs about twice the forward FLOPs (one matmul for input, one for weight gradients). */
export const BACKWARD_FLOPS_FACTOR = 2

/** AdamW keeps two moments per parameter: optimizer state is 2× the parameter bytes. */
export const OPTIMIZER_STATE_FACTOR = 2

/**
 * Wire bytes per kept element over bytes per dense fp32 element for top-k + fp16: 2 bytes of value
 * plus 4 of index, over 4 — conservative, since sparse index coding usually takes less.
 */
export const WIRE_BYTES_PER_KEPT = 1.5

/** Wire bytes per dense fp32 byte of fp16: 2 bytes per value over 4. */
export const FP16_WIRE_RATIO = 0.5

/** Wire bytes per dense fp32 byte of int8: 1 byte per value plus a 4-byte scale per block, over 4. */
export const INT8_WIRE_RATIO = (1 + 4 / INT8_BLOCK) / 4

/**
 * Fraction of a peer's calibrated (MatMul) FLOP/s that an op type reaches, until measured runs
 * calibrate it: matrix products run near the calibration rate; elementwise and normalisation
 * ops are memory-bound and reach a small fraction of it.
 */
export const DEFAULT_EFFICIENCY: Readonly<Record<string, number>> = {
  MatMul: 1,
  Gemm: 1,
  Conv: 0.8,
  '*': 0.1,
}

/**
 * A fence stands only where bandwidth drops by at least this factor: if the largest log-gap is
 * smaller, the peers stay one cluster.
 */
export const MIN_FENCE_GAP_RATIO = 2

/** Micro-batches per step when the caller does not say. */
export const DEFAULT_MICRO_BATCHES = 8

/** Lower clamp of AdaTopK keep ratios (top-k error feedback converges poorly below 1 %). */
export const MIN_ACTIVATION_KEEP_RATIO = 0.01
