/** The protobuf writer for onnx.proto messages (see wire.ts for the reader and the wire types). */
import { int64Of, MAX_VARINT64_BYTES, writeVarint, writeVarint64 } from '../varint.ts'
import { WIRE_I32, WIRE_LEN, WIRE_VARINT } from './wire.ts'

const utf8Encoder = new TextEncoder()

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
    this.reserve(MAX_VARINT64_BYTES)
    this.len =
      typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER
        ? writeVarint(this.buf, this.len, v)
        : writeVarint64(this.buf, this.len, typeof v === 'bigint' ? v : int64Of(v))
  }

  private tag(field: number, wire: number): void {
    this.rawVarint((field << 3) | wire)
  }

  int(field: number, value: number | bigint): void {
    this.tag(field, WIRE_VARINT)
    this.rawVarint(value)
  }

  float(field: number, value: number): void {
    this.tag(field, WIRE_I32)
    this.scratch.setFloat32(0, value, true)
    this.raw(new Uint8Array(this.scratch.buffer, 0, 4))
  }

  bytes(field: number, value: Uint8Array): void {
    this.tag(field, WIRE_LEN)
    this.rawVarint(value.length)
    this.raw(value)
  }

  string(field: number, value: string): void {
    this.bytes(field, utf8Encoder.encode(value))
  }

  message(field: number, writer: ProtoWriter): void {
    this.tag(field, WIRE_LEN)
    this.rawVarint(writer.byteLength)
    writer.flush()
    this.flush()
    for (const c of writer.chunks) this.chunks.push(c)
    this.flushed += writer.flushed
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
