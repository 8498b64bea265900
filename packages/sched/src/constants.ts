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
 * plus the gap to the previous kept index as a varint, 1 byte while fewer than 1 in 128 elements
 * are skipped on average (keep ≥ 0.8 %, which AdaTopK's floor ensures), over 4. `atoll bench
 * pipeline` measured 3.0 bytes per kept element at keep 20 %; a wider gap costs a byte more per 7
 * bits (topkCodecRatio).
 */
export const WIRE_BYTES_PER_KEPT = 0.75

/** Wire bytes per dense fp32 byte of fp16: 2 bytes per value over 4. */
export const FP16_WIRE_RATIO = 0.5

/** Wire bytes per dense fp32 byte of int8: 1 byte per value plus a 4-byte scale per block, over 4. */
export const INT8_WIRE_RATIO = (1 + 4 / INT8_BLOCK) / 4

/**
 * Fraction of a peer's calibrated FLOP/s (its capability report: a 512² MatMul alone) that an op
 * type reaches in a stage. Calibrated on this project's development machine (2 shared x86-64 cores)
 * from `atoll bench pipeline`'s stage busy times (runtime's seconds inside the stage's session runs)
 * over four peers: two GPT blocks of width 128 took 44 ms a micro-batch of 4×64 tokens where 1 would
 * give 24 ms, and the blocks of the `even` run 62 ms (0.4–0.6: small matrices, and two or more peers
 * computing at once on two cores). Elementwise, normalisation and data-movement ops are memory-bound:
 * a tenth of the MatMul rate, as before the calibration. A plan for peers of their own machines is
 * pessimistic by up to 2× with these; placeJob's `efficiency` overrides them.
 */
export const DEFAULT_EFFICIENCY: Readonly<Record<string, number>> = {
  MatMul: 0.5,
  Gemm: 0.5,
  Conv: 0.4,
  '*': 0.05,
}

/**
 * A fence stands only where bandwidth drops by at least this factor: if the largest log-gap is
 * smaller, the peers stay one cluster.
 */
export const MIN_FENCE_GAP_RATIO = 2

/** Micro-batches per step when the caller does not say. */
export const DEFAULT_MICRO_BATCHES = 8

/**
 * Lower clamp of AdaTopK keep ratios on activations. Top-k + fp16 activations carry no error feedback
 * (the lead's stage-job.ts: gradients do), so what is dropped is lost: `atoll bench pipeline` measured
 * a held-out loss gap of 2 % against dense at a 23.6 % keep after 120 steps, and the demo 18 % at
 * 1 % after 300 (2.93 against 2.48). The planner also prices a compressed fence cut at this ratio, so
 * a floor of 1 % let it cut mid-block where 4× the bytes cross, then keep 8 % of them.
 */
export const MIN_ACTIVATION_KEEP_RATIO = 0.2

/**
 * Per stage and micro-batch, whatever its size: the forward and backward session runs, reading the
 * outputs and handing them to the mesh. Calibrated from `atoll bench pipeline`: stages holding one
 * embedding (no FLOPs to speak of) were busy 3.5 ms a micro-batch (2.5–3.75 over three runs).
 */
export const MICRO_BATCH_OVERHEAD_SECONDS = 0.0035

/**
 * Per byte a stage sends or receives over the mesh, at its end. `atoll bench transport` moves a tensor
 * stream at 132 MB/s between two processes on loopback on the development machine, both ends busy:
 * 7.6 ns a byte each. On a machine whose cores the stages share, that CPU is taken from their
 * compute: `atoll bench pipeline`'s plans that moved 50–75 MB a step between two peers of a site
 * were 0.8–1.1 s a step slower than their compute, which this accounts for.
 */
export const MESH_BYTE_SECONDS = 7.6e-9

/**
 * How many round trips' worth of micro-batches a stage keeps in flight (predictStep): the way from
 * its output to the last stage and back, counted this many times. A link that sets the pace has a
 * standing queue: TCP fills the buffer before it (a router's, or the sender's), so each crossing
 * takes up to twice its bytes' time, which the link's own estimate does not show. Twice the
 * estimated way round covers it; a micro-batch more in flight costs only its stashed activations.
 * `atoll bench pipeline`, dense fence: 3.5 s a step with the round trip covered once, 3.0 s twice.
 */
export const IN_FLIGHT_SLACK = 2

/**
 * Per op of a stage and micro-batch (forward and backward): onnxruntime's dispatch of a kernel on a
 * CPU, some 10 µs each way. Not fitted (a GPT block's 40 ops make 0.8 ms, within the noise of the
 * busy times above); it keeps the planner from thinking a stage of many tiny ops free.
 */
export const OP_OVERHEAD_SECONDS = 0.00002

/**
 * Per step: the coordinator's step and commit round trips (ctrl RPC), the stages' wait for their last
 * sends to be acknowledged, and the optimizer's update. Calibrated from `atoll bench pipeline`'s first
 * runs: a step took 0.10–0.15 s longer than its stages' busy and waiting times within the schedule,
 * of which the tied embedding's exchange (counted on its own, TiedExchange) was about 0.06 s.
 */
export const STEP_OVERHEAD_SECONDS = 0.1
