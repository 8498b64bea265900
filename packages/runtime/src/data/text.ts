import { type Tensor, tensor } from '@atoll/core'
import { DatasetError } from '../errors.ts'
import { int32Words, sampleAt, writeInt64 } from './batch.ts'

/**
 * A token stream cut into non-overlapping windows of `seqLen`: sample i's inputs are tokens
 * [i·L, i·L + L) and its targets the same window shifted by one (next-token prediction).
 */
export interface TokenSequences {
  readonly tokens: Int32Array
  readonly seqLen: number
  /** number of whole windows: ⌊(tokens − 1) / seqLen⌋ (the last target needs one token more) */
  readonly count: number
}

export function tokenSequences(tokens: Int32Array, seqLen: number): TokenSequences {
  if (!Number.isInteger(seqLen) || seqLen < 1)
    throw new DatasetError(`sequence length must be an integer ≥ 1, got ${seqLen}`)
  const count = Math.max(0, Math.floor((tokens.length - 1) / seqLen))
  if (count === 0) throw new DatasetError(`${tokens.length} tokens make no sequence of length ${seqLen} + 1`)
  return { tokens, seqLen, count }
}

/** Splits a token stream into a training head and a held-out tail (views, not copies). */
export function splitTokens(
  tokens: Int32Array,
  heldOutFraction: number,
): { train: Int32Array; heldOut: Int32Array } {
  if (!(heldOutFraction >= 0 && heldOutFraction < 1)) {
    throw new DatasetError(`held-out fraction must be in [0, 1), got ${heldOutFraction}`)
  }
  const cut = tokens.length - Math.round(tokens.length * heldOutFraction)
  return { train: tokens.subarray(0, cut), heldOut: tokens.subarray(cut) }
}

/** One batch of token windows as int64 tensors [B, L], the dtype ONNX Gather wants for ids. */
export interface TokenBatch {
  inputs: Tensor<'int64'>
  targets: Tensor<'int64'>
}

/**
 * Gathers windows `indices` into int64 inputs and targets. Pass the previous batch as `reuse` to
 * write into its buffers: a training loop then allocates nothing per step.
 */
export function tokenBatch(seqs: TokenSequences, indices: ArrayLike<number>, reuse?: TokenBatch): TokenBatch {
  const { seqLen: L, tokens } = seqs
  const shape = [indices.length, L]
  const fits = reuse !== undefined && reuse.inputs.data.length === indices.length * L
  const batch = fits ? reuse : { inputs: int64Zeros(shape), targets: int64Zeros(shape) }
  const inputs = int32Words(batch.inputs)
  const targets = int32Words(batch.targets)
  for (let b = 0; b < indices.length; b++) {
    const i = sampleAt(indices, b, seqs.count, 'sequence')
    const start = i * L
    for (let t = 0; t < L; t++) {
      writeInt64(inputs, b * L + t, tokens[start + t])
      writeInt64(targets, b * L + t, tokens[start + t + 1])
    }
  }
  return batch
}

function int64Zeros(shape: number[]): Tensor<'int64'> {
  return tensor('int64', shape, new BigInt64Array(shape[0] * shape[1]))
}
