import { BYTES_PER_ELEMENT, type DType, isDType } from '@atoll/core'
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
} from '../errors.ts'
import { describe, isPlainObject } from './check.ts'
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

const FIELDS = ['v', 'job', 'step', 'mb', 'edge', 'dtype', 'shape', 'codec', 'codecMeta', 'bytes']

/**
 * Checks an untrusted decoded header completely: types, version, dtype, codec and its meta, shape,
 * every limit, and that `bytes` is exactly what shape, dtype and codec imply. Returns a fresh object
 * (nothing of `raw` is kept), so a valid result can be trusted for allocation sizes.
 */
export function validateHeader(raw: unknown, limits: WireLimits = DEFAULT_LIMITS): TensorHeader {
  if (!isPlainObject(raw)) throw new HeaderDecodeError('header is not a msgpack map')
  for (const key of Object.keys(raw)) {
    if (!FIELDS.includes(key)) throw new HeaderFieldError(`unknown header field '${key}'`)
  }
  if (typeof raw.v !== 'number') throw new HeaderFieldError('header field v must be a number')
  if (raw.v !== WIRE_VERSION)
    throw new UnsupportedVersionError(`header v ${raw.v}, this build reads ${WIRE_VERSION}`)
  const job = name(raw.job, 'job', limits)
  const edge = name(raw.edge, 'edge', limits)
  const step = count(raw.step, 'step')
  const mb = count(raw.mb, 'mb')
  if (!isDType(raw.dtype)) throw new UnknownDTypeError(`unknown dtype ${describe(raw.dtype)}`)
  const dtype = raw.dtype
  const shape = validateShape(raw.shape, limits)
  if (!isWireCodec(raw.codec)) throw new UnknownCodecError(`unknown codec ${describe(raw.codec)}`)
  const codec = raw.codec
  const n = elementCount(shape)
  const codecMeta = validateCodecMeta(codec, dtype, n, raw.codecMeta)
  const bytes = count(raw.bytes, 'bytes')
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

function validateShape(value: unknown, limits: WireLimits): number[] {
  if (!Array.isArray(value)) throw new HeaderFieldError('header field shape must be an array')
  if (value.length > limits.maxRank) {
    throw new LimitExceededError(`rank ${value.length} is over the limit of ${limits.maxRank}`)
  }
  const shape: number[] = []
  let n = 1
  for (const d of value) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new BadShapeError(`bad dimension ${describe(d)} in shape`)
    }
    shape.push(d)
    // Checked as we go so the product can never overflow into a small, wrong number.
    n *= d
    if (n > limits.maxElements) {
      throw new LimitExceededError(`shape has over ${limits.maxElements} elements (the limit)`)
    }
  }
  return shape
}

function name(value: unknown, field: string, limits: WireLimits): string {
  if (typeof value !== 'string') throw new HeaderFieldError(`header field ${field} must be a string`)
  if (value.length > limits.maxNameLength) {
    throw new LimitExceededError(`${field} of ${value.length} characters is over ${limits.maxNameLength}`)
  }
  return value
}

function count(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new HeaderFieldError(`header field ${field} must be a non-negative integer, got ${describe(value)}`)
  }
  return value
}

function isWireCodec(value: unknown): value is WireCodec {
  return typeof value === 'string' && (WIRE_CODECS as readonly string[]).includes(value)
}
