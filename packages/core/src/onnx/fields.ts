/**
 * Messages read as tables: each message type lists, by field number, the field's name in
 * onnx.proto, how its value is read and where it goes (the key of the plain object in proto.ts),
 * and one loop (readMessage) dispatches every field it meets and skips the fields Atoll does not
 * use. A field with the wrong wire type is an error that names it as onnx.proto does:
 * `ModelProto.ir_version: expected wire type varint, found length-delimited`.
 */
import { type ProtoReader, WIRE_LEN } from './wire.ts'

/** Reads one occurrence of a field (found with wire type `wire`, in a message of type `type`) into `m`. */
export type FieldReader<M> = (r: ProtoReader, m: M, wire: number, type: string) => void

/** A message type's fields, by field number. */
export type MessageFields<M> = Readonly<Record<number, FieldReader<M>>>

/** The keys of M that hold arrays, and the element type of such a key. */
type ListKey<M> = { [K in keyof M]: M[K] extends unknown[] ? K : never }[keyof M] & string
type Element<M, K extends keyof M> = M[K] extends (infer T)[] ? T : never
type CountKey<M> = { [K in keyof M]: M[K] extends number ? K : never }[keyof M] & string

/** Reads the fields of one message (`type` names it in errors) into `m`, and returns `m`. */
export function readMessage<M>(reader: ProtoReader, type: string, message: M, fields: MessageFields<M>): M {
  while (!reader.done()) {
    const { field, wire } = reader.tag()
    const read = fields[field]
    if (read === undefined) reader.skip(wire, type, field)
    else read(reader, message, wire, type)
  }
  return message
}

/** Singular field `name` of wire type `wire`, read by `read` into `m[key]`. */
export function one<M, K extends keyof M & string>(
  name: string,
  key: K,
  wire: number,
  read: (r: ProtoReader) => M[K],
): FieldReader<M> {
  return (r, m, found, type) => {
    r.expect(found, wire, type, name)
    m[key] = read(r)
  }
}

/** Repeated length-delimited field `name` (strings, bytes, messages): one element per occurrence. */
export function each<M, K extends ListKey<M>>(
  name: string,
  key: K,
  read: (r: ProtoReader) => Element<M, K>,
): FieldReader<M> {
  return (r, m, found, type) => {
    r.expect(found, WIRE_LEN, type, name)
    ;(m[key] as Element<M, K>[]).push(read(r))
  }
}

/** Repeated scalar field `name` of wire type `wire`, packed or one element per occurrence. */
export function scalars<M, K extends ListKey<M>>(
  name: string,
  key: K,
  wire: number,
  read: (r: ProtoReader) => Element<M, K>,
): FieldReader<M> {
  return (r, m, found, type) => r.repeated(found, wire, read, m[key] as Element<M, K>[], type, name)
}

/** Sub-message field `name` whose fields (`fields` of message type `subtype`) land on the parent itself. */
export function flattened<M>(name: string, subtype: string, fields: MessageFields<M>): FieldReader<M> {
  return (r, m, found, type) => {
    r.expect(found, WIRE_LEN, type, name)
    readMessage(r.message(), subtype, m, fields)
  }
}

/** Field `name`, which Atoll does not read but counts (functions, sparse initializers), to refuse it later. */
export function counted<M, K extends CountKey<M>>(name: string, key: K): FieldReader<M> {
  return (r, m, found, type) => {
    m[key] = ((m[key] as number) + 1) as M[K]
    r.skip(found, type, name)
  }
}

/** Readers of one value, for the tables. */
export const read = {
  int: (r: ProtoReader) => r.int(),
  int64: (r: ProtoReader) => r.int64(),
  uint64: (r: ProtoReader) => r.uint64(),
  float: (r: ProtoReader) => r.float(),
  double: (r: ProtoReader) => r.double(),
  string: (r: ProtoReader) => r.string(),
  bytes: (r: ProtoReader) => r.bytesField(),
}
