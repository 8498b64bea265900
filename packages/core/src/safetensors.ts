/**
 * safetensors read and write: an 8-byte little-endian header length, a JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { k: v } }`, then the raw
 * little-endian tensor data. Every header field is checked before any data is touched, so a hostile
 * file gets a SafetensorsError and never an out-of-bounds view or a huge allocation.
 */
import * as z from 'zod/mini'
import { AtollError } from './errors.ts'
import { type FieldProblem, parseJson, parseWith } from './schema.ts'
import { BYTES_PER_ELEMENT, type DType, numel, type Tensor, tensorBytes, zeros } from './tensor.ts'

export class SafetensorsError extends AtollError {
  constructor(message: string) {
    super(`invalid safetensors: ${message}`)
  }
}

const DTYPE_OF: Readonly<Record<string, DType>> = {
  F32: 'float32',
  F16: 'float16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  BOOL: 'bool',
  U8: 'uint8',
}
const NAME_OF: Readonly<Record<DType, string>> = Object.fromEntries(
  Object.entries(DTYPE_OF).map(([k, v]) => [v, k]),
) as Record<DType, string>

/** The format's own limit on the header (safetensors refuses larger ones too). */
const MAX_HEADER_BYTES = 100_000_000
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

export interface SafetensorsFile {
  tensors: Map<string, Tensor>
  metadata: Record<string, string>
}

const offset = z.int().check(z.gte(0))

/** One tensor's entry; whether it fits the data is checked after the parse, in `placeEntries`. */
const tensorEntry = z.object({
  dtype: z.enum(Object.keys(DTYPE_OF) as [string, ...string[]]),
  shape: z.array(offset),
  data_offsets: z.array(offset).check(z.length(2)),
})
/** Loose: every key but `__metadata__` names a tensor, and is parsed as one. */
const headerObject = z.looseObject({ __metadata__: z.optional(z.record(z.string(), z.string())) })
const tensorEntries = z.record(z.string(), tensorEntry)

const fail = (problem: FieldProblem) => new SafetensorsError(problem.message)

interface Header {
  metadata: Record<string, string>
  tensors: Record<string, z.infer<typeof tensorEntry>>
  dataStart: number
}

function parseHeader(bytes: Uint8Array): Header {
  if (bytes.length < 8)
    throw new SafetensorsError(`file of ${bytes.length} bytes is shorter than its 8-byte prefix`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const len = view.getBigUint64(0, true)
  if (len > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    throw new SafetensorsError(`header length ${len} exceeds the file (${bytes.length} bytes) or the limit`)
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + Number(len)))
  } catch (err) {
    throw new SafetensorsError(`header is not UTF-8 (${(err as Error).message})`)
  }
  const raw = parseJson(text, 'header', SafetensorsError)
  const { __metadata__, ...tensors } = parseWith(headerObject, raw, fail, { root: 'header' })
  return {
    metadata: __metadata__ ?? {},
    tensors: parseWith(tensorEntries, tensors, fail, { root: 'header' }),
    dataStart: 8 + Number(len),
  }
}

interface Entry {
  name: string
  dtype: DType
  shape: number[]
  begin: number
  end: number
}

/** The entries in header order, each checked to lie inside the data and to hold what its shape needs. */
function placeEntries(tensors: Header['tensors'], dataBytes: number): Entry[] {
  return Object.entries(tensors).map(([name, e]) => {
    const dtype = DTYPE_OF[e.dtype]
    const [begin, end] = e.data_offsets
    if (begin > end || end > dataBytes) {
      throw new SafetensorsError(
        `tensor '${name}' offsets [${begin}, ${end}] fall outside the ${dataBytes} data bytes`,
      )
    }
    const want = numel(e.shape) * BYTES_PER_ELEMENT[dtype]
    if (end - begin !== want) {
      throw new SafetensorsError(
        `tensor '${name}' of ${dtype} [${e.shape}] needs ${want} bytes, offsets give ${end - begin}`,
      )
    }
    return { name, dtype, shape: e.shape, begin, end }
  })
}

/** Parses a safetensors file; tensors are copied out (aligned), so `bytes` may be reused. */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (!LITTLE_ENDIAN) throw new SafetensorsError('reading needs a little-endian platform')
  const { metadata, tensors: declared, dataStart } = parseHeader(bytes)
  const dataBytes = bytes.length - dataStart
  const entries = placeEntries(declared, dataBytes)
  // the format forbids overlapping tensors and holes; checking keeps two names off one buffer
  const sorted = [...entries].sort((a, b) => a.begin - b.begin)
  let expected = 0
  for (const e of sorted) {
    if (e.begin !== expected)
      throw new SafetensorsError(`tensor '${e.name}' starts at ${e.begin}, expected ${expected}`)
    expected = e.end
  }
  if (expected !== dataBytes)
    throw new SafetensorsError(`data section has ${dataBytes} bytes, tensors cover ${expected}`)
  const tensors = new Map<string, Tensor>()
  for (const e of entries) {
    const t = zeros(e.dtype, e.shape)
    tensorBytes(t).set(bytes.subarray(dataStart + e.begin, dataStart + e.end))
    tensors.set(e.name, t)
  }
  return { tensors, metadata }
}

/** Serialises tensors (in the given order) and string metadata to safetensors bytes. */
export function writeSafetensors(
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors)
  const header: Record<string, unknown> = {}
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata
  let offset = 0
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new SafetensorsError("a tensor cannot be named '__metadata__'")
    header[name] = {
      dtype: NAME_OF[t.dtype],
      shape: t.shape,
      data_offsets: [offset, offset + t.data.byteLength],
    }
    offset += t.data.byteLength
  }
  let json = new TextEncoder().encode(JSON.stringify(header))
  // pad the header with spaces to a multiple of 8 so the data section starts aligned
  const padded = Math.ceil(json.length / 8) * 8
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20)
    p.set(json)
    json = p
  }
  const out = new Uint8Array(8 + json.length + offset)
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true)
  out.set(json, 8)
  let at = 8 + json.length
  for (const [, t] of list) {
    out.set(tensorBytes(t), at)
    at += t.data.byteLength
  }
  return out
}
