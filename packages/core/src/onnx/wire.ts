/**
 * A minimal protobuf wire codec (proto3 encoding rules), enough for onnx.proto: the reader and the
 * wire types (the writer is in writer.ts). Hand-written rather
 * than loaded from a .proto file so that it runs in the browser with no file system, and so that
 * int64 fields come back as exact BigInts where they must (tensor data) and as numbers elsewhere.
 */
import { readVarint64, VarintError } from '../varint.ts'
import { OnnxDecodeError } from './errors.ts'

export const WIRE_VARINT = 0
export const WIRE_I64 = 1
export const WIRE_LEN = 2
export const WIRE_I32 = 5

/** The wire types as protobuf's encoding guide names them; 3 and 4 are proto2 groups, 6 and 7 none. */
const WIRE_NAMES = ['varint', '64-bit', 'length-delimited', 'group start', 'group end', '32-bit']

/** A wire type in words, for errors: `varint`, `length-delimited`… (the number if it is none). */
export function wireName(wire: number): string {
  return WIRE_NAMES[wire] ?? String(wire)
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

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
    try {
      return readVarint64(this.bytes, this, this.end)
    } catch (err) {
      throw err instanceof VarintError ? new OnnxDecodeError(err.message) : err
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

  /**
   * A repeated scalar field, packed (wire LEN) or one element at a time; `one` reads one element.
   * `message` and `field` name it in errors (`TensorProto.dims`).
   */
  repeated<T>(
    wire: number,
    scalarWire: number,
    one: (r: ProtoReader) => T,
    out: T[],
    message: string,
    field: string,
  ): void {
    if (wire === WIRE_LEN && scalarWire !== WIRE_LEN) {
      const sub = this.message()
      while (!sub.done()) out.push(one(sub))
    } else if (wire === scalarWire) {
      out.push(one(this))
    } else {
      const expected = `${wireName(scalarWire)} (or length-delimited, packed)`
      throw new OnnxDecodeError(
        `${message}.${field}: expected wire type ${expected}, found ${wireName(wire)}`,
      )
    }
  }

  /**
   * Checks that field `field` of a `message` has the wire type its schema says; names are
   * onnx.proto's (`ModelProto`, `ir_version`), passed apart so that no string is built per field.
   */
  expect(wire: number, want: number, message: string, field: string): void {
    if (wire !== want) {
      const found = wireName(wire)
      throw new OnnxDecodeError(`${message}.${field}: expected wire type ${wireName(want)}, found ${found}`)
    }
  }

  /** Skips field `field` (a name, or the number of a field Atoll does not read) of a `message`. */
  skip(wire: number, message: string, field: string | number): void {
    if (wire === WIRE_VARINT) this.varint()
    else if (wire === WIRE_I64) this.advance(8)
    else if (wire === WIRE_LEN) this.span()
    else if (wire === WIRE_I32) this.advance(4)
    else {
      const where = typeof field === 'number' ? `${message} field ${field}` : `${message}.${field}`
      throw new OnnxDecodeError(`${where}: unsupported wire type ${wireName(wire)}`)
    }
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
