/**
 * safetensors read and write: an 8-byte little-endian header length, a JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { k: v } }`, then the raw
 * little-endian tensor data. Every header field is checked before any data is touched, so a hostile
 * file gets a SafetensorsError and never an out-of-bounds view or a huge allocation.
 */
import { AtollError } from './errors.ts'
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

function parseHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8)
    throw new SafetensorsError(`file of ${bytes.length} bytes is shorter than its 8-byte prefix`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const len = view.getBigUint64(0, true)
  if (len > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    throw new SafetensorsError(`header length ${len} exceeds the file (${bytes.length} bytes) or the limit`)
  }
  let header: unknown
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + Number(len))))
  } catch (err) {
    throw new SafetensorsError(`header is not UTF-8 JSON (${(err as Error).message})`)
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError('header is not a JSON object')
  }
  return { header: header as Record<string, unknown>, dataStart: 8 + Number(len) }
}

function parseMetadata(raw: unknown): Record<string, string> {
  if (raw === undefined) return {}
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SafetensorsError('__metadata__ is not an object')
  }
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw new SafetensorsError(`__metadata__.${k} is not a string`)
  }
  return raw as Record<string, string>
}

interface Entry {
  name: string
  dtype: DType
  shape: number[]
  begin: number
  end: number
}

function parseEntry(name: string, raw: unknown, dataBytes: number): Entry {
  const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown }
  if (typeof raw !== 'object' || raw === null) throw new SafetensorsError(`entry '${name}' is not an object`)
  const dtype = typeof e.dtype === 'string' ? DTYPE_OF[e.dtype] : undefined
  if (dtype === undefined)
    throw new SafetensorsError(`tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)}`)
  const shape = e.shape
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`tensor '${name}' has a bad shape ${JSON.stringify(shape)}`)
  }
  const off = e.data_offsets
  if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new SafetensorsError(`tensor '${name}' has bad data_offsets ${JSON.stringify(off)}`)
  }
  const [begin, end] = off as [number, number]
  if (begin > end || end > dataBytes) {
    throw new SafetensorsError(
      `tensor '${name}' offsets [${begin}, ${end}] fall outside the ${dataBytes} data bytes`,
    )
  }
  const want = numel(shape) * BYTES_PER_ELEMENT[dtype]
  if (end - begin !== want) {
    throw new SafetensorsError(
      `tensor '${name}' of ${dtype} [${shape}] needs ${want} bytes, offsets give ${end - begin}`,
    )
  }
  return { name, dtype, shape, begin, end }
}

/** Parses a safetensors file; tensors are copied out (aligned), so `bytes` may be reused. */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (!LITTLE_ENDIAN) throw new SafetensorsError('reading needs a little-endian platform')
  const { header, dataStart } = parseHeader(bytes)
  const dataBytes = bytes.length - dataStart
  const metadata = parseMetadata(header.__metadata__)
  const entries = Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .map(([k, v]) => parseEntry(k, v, dataBytes))
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
