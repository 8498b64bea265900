import { BYTES_PER_ELEMENT, DTYPES, type DType, type FieldProblem, parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import { DEFAULT_LIMITS, WIRE_VERSION, type WireLimits } from '../constants.ts'
import {
  BadShapeError,
  HeaderDecodeError,
  HeaderFieldError,
  LimitExceededError,
  SizeMismatchError,
  UnknownCodecError,
  UnknownDTypeError,
  UnsupportedVersionError,
  type WireError,
} from '../errors.ts'
import { type CodecMeta, payloadBytes, validateCodecMeta } from './codec-meta.ts'

/**
 * How a payload encodes its tensor. `raw`: the dtype's storage bytes (little-endian). The others
 * always decode to float32: `fp16` (IEEE half bits), `int8` (per-block scale), `sparse` (values and
 * delta-varint indices; what both top-k codecs produce).
 */
export type WireCodec = 'raw' | 'fp16' | 'int8' | 'sparse'

export const WIRE_CODECS: readonly WireCodec[] = ['raw', 'fp16', 'int8', 'sparse']

/** Which message this is within a job: detects late or duplicated messages (ARCHITECTURE.md, RAD). */
export interface MessageRoute {
  job: string
  /** training step, ≥ 0 */
  step: number
  /** micro-batch within the step, ≥ 0 */
  mb: number
  /** the boundary edge or tensor name this message carries */
  edge: string
}

/** The msgpack header of a tensor message; `dtype` and `shape` describe the decoded tensor. */
export interface TensorHeader extends MessageRoute {
  v: number
  dtype: DType
  shape: number[]
  codec: WireCodec
  codecMeta: CodecMeta
  /** payload length in bytes */
  bytes: number
}

const count = z.int().check(z.gte(0))

/**
 * The header's fields and their types. What depends on the configured limits, and what the fields
 * imply of each other (codecMeta by codec, bytes = shape × dtype × codec), is checked after.
 */
const headerFields = z.strictObject({
  v: z.number(),
  job: z.string(),
  step: count,
  mb: count,
  edge: z.string(),
  dtype: z.enum(DTYPES as [DType, ...DType[]]),
  shape: z.array(count),
  codec: z.enum(WIRE_CODECS as [WireCodec, ...WireCodec[]]),
  codecMeta: z.unknown(),
  bytes: count,
})

/** Callers and the fuzz tests branch on the class: which one a field's failure raises. */
function headerError({ keys, message }: FieldProblem): WireError {
  const [field] = keys
  if (field === undefined) return new HeaderDecodeError(message)
  if (field === 'dtype') return new UnknownDTypeError(message)
  if (field === 'codec') return new UnknownCodecError(message)
  if (field === 'shape' && keys.length > 1) return new BadShapeError(message)
  return new HeaderFieldError(message)
}

/**
 * Checks an untrusted decoded header completely: types, version, dtype, codec and its meta, shape,
 * every limit, and that `bytes` is exactly what shape, dtype and codec imply. Returns the parsed copy
 * (zod builds fresh objects and lists; nothing of `raw` is kept), so a valid result can be trusted
 * for allocation sizes.
 */
export function validateHeader(raw: unknown, limits: WireLimits = DEFAULT_LIMITS): TensorHeader {
  const header = parseWith(headerFields, raw, headerError, { root: 'header' })
  const { v, job, step, mb, edge, dtype, shape, codec, bytes } = header
  if (v !== WIRE_VERSION) throw new UnsupportedVersionError(`header v ${v}, this build reads ${WIRE_VERSION}`)
  checkName(job, 'job', limits)
  checkName(edge, 'edge', limits)
  checkShape(shape, limits)
  const n = elementCount(shape)
  const codecMeta = validateCodecMeta(codec, dtype, n, header.codecMeta)
  if (bytes > limits.maxPayloadBytes) {
    throw new LimitExceededError(`payload of ${bytes} bytes is over the limit of ${limits.maxPayloadBytes}`)
  }
  const expected = payloadBytes(codec, BYTES_PER_ELEMENT[dtype], n, codecMeta)
  if (bytes !== expected) {
    throw new SizeMismatchError(
      `${codec} ${dtype}[${shape}] needs ${expected} payload bytes, header declares ${bytes}`,
    )
  }
  return { v: WIRE_VERSION, job, step, mb, edge, dtype, shape, codec, codecMeta, bytes }
}

/** Number of elements of a validated shape (the empty shape is a scalar). */
export function elementCount(shape: readonly number[]): number {
  let n = 1
  for (const d of shape) n *= d
  return n
}

/** Checks that the shape is within the rank and element limits. */
function checkShape(dims: readonly number[], limits: WireLimits): void {
  if (dims.length > limits.maxRank) {
    throw new LimitExceededError(`rank ${dims.length} is over the limit of ${limits.maxRank}`)
  }
  let n = 1
  for (const d of dims) {
    // Checked as we go so the product can never overflow into a small, wrong number.
    n *= d
    if (n > limits.maxElements) {
      throw new LimitExceededError(`shape has over ${limits.maxElements} elements (the limit)`)
    }
  }
}

function checkName(value: string, field: string, limits: WireLimits): void {
  if (value.length > limits.maxNameLength) {
    throw new LimitExceededError(`${field} of ${value.length} characters is over ${limits.maxNameLength}`)
  }
}
