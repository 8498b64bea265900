/** Defaults of the scheduler, each with the reason for its value. */

/**
 * States kept per layer by the exact DreamDDP search before it degrades to a beam. With it, six
 * of the seven shared profiles are solved provably optimally in well under a second; the Pareto
 * filter is quadratic in the front, so a wider front costs much more time for a gap that was
 * already < 0.5 % of the wait on the seventh (gpt2-16w-5gbit).
 */
export const DEFAULT_MAX_STATES = 256
