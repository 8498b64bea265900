/**
 * A minimal protobuf wire codec (proto3 encoding rules), enough for onnx.proto. Hand-written rather
 * than loaded from a .proto file so that it runs in the browser with no file system, and so that
 * int64 fields come back as exact BigInts where they must (tensor data) and as numbers elsewhere.
 */
import { OnnxDecodeError } from './errors.ts'

export const WIRE_VARINT = 0
export const WIRE_I64 = 1
export const WIRE_LEN = 2
export const WIRE_I32 = 5

const utf8Decoder = new TextDecoder('utf-8', { fatal: true })
const utf8Encoder = new TextEncoder()

/** Reads one message's fields in order; `end` bounds the message inside a larger buffer. */
export class ProtoReader {
  pos: number
  readonly end: number
  readonly bytes: Uint8Array
  private readonly view: DataView

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes
    this.pos = start
    this.end = end
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  done(): boolean {
    return this.pos >= this.end
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: number } {
    const t = this.varint()
    const field = Number(t >> 3n)
    if (field === 0) throw new OnnxDecodeError(`field number 0 at byte ${this.pos}`)
    return { field, wire: Number(t & 7n) }
  }

  varint(): bigint {
    let result = 0n
    let shift = 0n
    for (;;) {
      if (this.pos >= this.end) throw new OnnxDecodeError('truncated varint')
      const b = this.bytes[this.pos++]
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) return result
      shift += 7n
      if (shift > 63n) throw new OnnxDecodeError(`varint longer than 10 bytes at byte ${this.pos}`)
    }
  }

  /** A varint read as a signed 64-bit integer, as a number (exact up to 2^53). */
  int(): number {
    return Number(BigInt.asIntN(64, this.varint()))
  }

  int64(): bigint {
    return BigInt.asIntN(64, this.varint())
  }

  uint64(): bigint {
    return BigInt.asUintN(64, this.varint())
  }

  float(): number {
    this.need(4)
    const v = this.view.getFloat32(this.pos, true)
    this.pos += 4
    return v
  }

  double(): number {
    this.need(8)
    const v = this.view.getFloat64(this.pos, true)
    this.pos += 8
    return v
  }

  /** A length-delimited field's bounds: [start, end). */
  span(): [number, number] {
    const len = Number(this.varint())
    this.need(len)
    const start = this.pos
    this.pos += len
    return [start, this.pos]
  }

  bytesField(): Uint8Array {
    const [s, e] = this.span()
    return this.bytes.subarray(s, e)
  }

  string(): string {
    try {
      return utf8Decoder.decode(this.bytesField())
    } catch {
      throw new OnnxDecodeError(`invalid UTF-8 string before byte ${this.pos}`)
    }
  }

  /** A sub-message reader over the next length-delimited field. */
  message(): ProtoReader {
    const [s, e] = this.span()
    return new ProtoReader(this.bytes, s, e)
  }

  /** A repeated scalar field, packed (wire LEN) or one element at a time; `one` reads one element. */
  repeated<T>(wire: number, scalarWire: number, one: (r: ProtoReader) => T, out: T[]): void {
    if (wire === WIRE_LEN && scalarWire !== WIRE_LEN) {
      const sub = this.message()
      while (!sub.done()) out.push(one(sub))
    } else if (wire === scalarWire) {
      out.push(one(this))
    } else {
      throw new OnnxDecodeError(`wire type ${wire} where wire type ${scalarWire} was expected`)
    }
  }

  /** Checks that a field has the wire type its schema says. */
  expect(wire: number, want: number, what: string): void {
    if (wire !== want) throw new OnnxDecodeError(`${what}: wire type ${wire}, expected ${want}`)
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint()
    else if (wire === WIRE_I64) this.advance(8)
    else if (wire === WIRE_LEN) this.span()
    else if (wire === WIRE_I32) this.advance(4)
    else throw new OnnxDecodeError(`unsupported wire type ${wire} before byte ${this.pos}`)
  }

  private advance(n: number): void {
    this.need(n)
    this.pos += n
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new OnnxDecodeError(`field of ${n} bytes runs past the end of its message at byte ${this.pos}`)
    }
  }
}

/** Chunks at least this large are kept by reference instead of being copied into the buffer. */
const BY_REFERENCE = 4096

/**
 * Appends fields; nested messages and large byte fields are kept as chunks by reference, so a
 * model's weights are copied once, by `finish()`, however deep they sit (tensor → graph → model).
 */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = []
  private buf = new Uint8Array(256)
  private len = 0
  private flushed = 0
  private readonly scratch = new DataView(new ArrayBuffer(8))

  /** Bytes written so far. */
  get byteLength(): number {
    return this.flushed + this.len
  }

  finish(): Uint8Array {
    this.flush()
    if (this.chunks.length === 1) return this.chunks[0]
    const out = new Uint8Array(this.flushed)
    let at = 0
    for (const c of this.chunks) {
      out.set(c, at)
      at += c.length
    }
    return out
  }

  private flush(): void {
    if (this.len === 0) return
    this.chunks.push(this.buf.subarray(0, this.len))
    this.flushed += this.len
    this.buf = new Uint8Array(256)
    this.len = 0
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }

  private rawVarint(v: number | bigint): void {
    this.reserve(10)
    if (typeof v === 'number' && v >= 0 && v <= 0x7fffffff) {
      // the common case (tags, lengths, small ints) without BigInt arithmetic
      let x = v
      while (x >= 0x80) {
        this.buf[this.len++] = (x & 0x7f) | 0x80
        x >>>= 7
      }
      this.buf[this.len++] = x
      return
    }
    let x = BigInt.asUintN(64, BigInt(v))
    while (x >= 0x80n) {
      this.buf[this.len++] = Number(x & 0x7fn) | 0x80
      x >>= 7n
    }
    this.buf[this.len++] = Number(x)
  }

  private tag(field: number, wire: number): void {
    this.rawVarint((field << 3) | wire)
  }

  int(field: number, v: number | bigint): void {
    this.tag(field, WIRE_VARINT)
    this.rawVarint(v)
  }

  float(field: number, v: number): void {
    this.tag(field, WIRE_I32)
    this.scratch.setFloat32(0, v, true)
    this.raw(new Uint8Array(this.scratch.buffer, 0, 4))
  }

  bytes(field: number, v: Uint8Array): void {
    this.tag(field, WIRE_LEN)
    this.rawVarint(v.length)
    this.raw(v)
  }

  string(field: number, v: string): void {
    this.bytes(field, utf8Encoder.encode(v))
  }

  message(field: number, w: ProtoWriter): void {
    this.tag(field, WIRE_LEN)
    this.rawVarint(w.byteLength)
    w.flush()
    this.flush()
    for (const c of w.chunks) this.chunks.push(c)
    this.flushed += w.flushed
  }

  /** A packed repeated int64 field (how proto3 writes repeated scalars). */
  packedInts(field: number, values: readonly (number | bigint)[]): void {
    if (values.length === 0) return
    const inner = new ProtoWriter()
    for (const v of values) inner.rawVarint(v)
    this.bytes(field, inner.finish())
  }

  packedFloats(field: number, values: readonly number[]): void {
    if (values.length === 0) return
    const data = new Uint8Array(values.length * 4)
    const view = new DataView(data.buffer)
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true)
    this.bytes(field, data)
  }

  private raw(v: Uint8Array): void {
    if (v.length >= BY_REFERENCE) {
      this.flush()
      this.chunks.push(v)
      this.flushed += v.length
      return
    }
    this.reserve(v.length)
    this.buf.set(v, this.len)
    this.len += v.length
  }
}
