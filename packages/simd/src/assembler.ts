/**
 * Just enough of the WebAssembly binary format to assemble a kernel from named instructions: one
 * function over an imported memory, its value types, and the instructions the kernels use, named
 * as in the spec (`local.get` is `op.localGet`, SIMD ones sit behind the 0xfd prefix). No build
 * step and no binary blob to trust: the module is these bytes.
 */
import { MAX_VARINT64_BYTES, writeSignedVarint, writeVarint } from '@atoll/core'

/** Value types by their names in the spec, and their codes. */
export const VALUE_TYPES = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const
export type ValueType = keyof typeof VALUE_TYPES

const scratch = new Uint8Array(MAX_VARINT64_BYTES)
/** An unsigned LEB128 immediate (indices, sizes, offsets). */
const u32 = (value: number): number[] => Array.from(scratch.subarray(0, writeVarint(scratch, 0, value)))
/** A signed LEB128 immediate (i32.const). */
const s32 = (value: number): number[] => Array.from(scratch.subarray(0, writeSignedVarint(scratch, 0, value)))
const f32Bytes = (value: number) => Array.from(new Uint8Array(Float32Array.of(value).buffer))
/** A memory immediate: log2 of the alignment the access may assume, and a constant offset. */
const memarg = (alignLog2: number, offset: number) => [alignLog2, ...u32(offset)]
const simd = (code: number, ...immediates: number[]) => [0xfd, ...u32(code), ...immediates]
/** Blocks, loops and ifs here leave no value: block type "empty". */
const EMPTY = 0x40
const V128_BYTES = 16

/** Instructions, by their names in the spec; immediates are arguments. */
export const op = {
  block: [0x02, EMPTY],
  loop: [0x03, EMPTY],
  if: [0x04, EMPTY],
  else: [0x05],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...u32(depth)],
  brIf: (depth: number) => [0x0d, ...u32(depth)],
  select: [0x1b],
  localGet: (index: number) => [0x20, ...u32(index)],
  localSet: (index: number) => [0x21, ...u32(index)],
  localTee: (index: number) => [0x22, ...u32(index)],
  f32Store: (offset: number) => [0x38, ...memarg(2, offset)],
  i32Const: (value: number) => [0x41, ...s32(value)],
  f32Const: (value: number) => [0x43, ...f32Bytes(value)],
  i32LtU: [0x49],
  i32GtU: [0x4b],
  i32GeU: [0x4f],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Shl: [0x74],
  f32Div: [0x95],
  f32ReinterpretI32: [0xbe],
  v128Load: (offset: number) => simd(0x00, ...memarg(4, offset)),
  v128Store: (offset: number) => simd(0x0b, ...memarg(4, offset)),
  v128Const: (bytes: readonly number[]) => {
    if (bytes.length !== V128_BYTES) throw new RangeError(`v128.const takes 16 bytes, got ${bytes.length}`)
    return simd(0x0c, ...bytes)
  },
  i32x4Splat: simd(0x11),
  f32x4Splat: simd(0x13),
  i32x4ExtractLane: (lane: number) => simd(0x1b, lane),
  v128And: simd(0x4e),
  i8x16NarrowI16x8S: simd(0x65),
  f32x4Nearest: simd(0x6a),
  i16x8NarrowI32x4S: simd(0x85),
  i32x4MaxU: simd(0xb9),
  f32x4Sqrt: simd(0xe3),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  f32x4Div: simd(0xe7),
  i32x4TruncSatF32x4S: simd(0xf8),
}

/** One exported function of a kernel module. */
export interface KernelSource {
  /** the export name */
  name: string
  params: readonly ValueType[]
  /** the function's locals, numbered after the params */
  locals: readonly ValueType[]
  /** the instructions, without the function's closing `end` */
  body: readonly number[]
}

/** Where a kernel finds its memory: the import `m.mem`, of at least one 64 KiB page. */
export const MEMORY_IMPORT = { module: 'm', name: 'mem' } as const

const SECTION = { type: 1, import: 2, function: 3, export: 7, code: 10 } as const
const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00] // "\0asm", version 1
const FUNCTION_TYPE = 0x60
const [MEMORY_KIND, FUNCTION_KIND] = [0x02, 0x00]
const LIMITS_MIN_ONLY = 0x00

/** A module holding `source` as its one function, working on the imported memory. */
export function assembleKernel(source: KernelSource): Uint8Array<ArrayBuffer> {
  const types = (list: readonly ValueType[]) => list.map((t) => [VALUE_TYPES[t]])
  const signature = [FUNCTION_TYPE, ...vector(types(source.params)), ...vector([])]
  const memory = [...utf8(MEMORY_IMPORT.module), ...utf8(MEMORY_IMPORT.name), MEMORY_KIND, LIMITS_MIN_ONLY, 1]
  const code = [...vector(localRuns(source.locals)), ...source.body, ...op.end]
  return Uint8Array.from([
    ...HEADER,
    ...section(SECTION.type, vector([signature])),
    ...section(SECTION.import, vector([memory])),
    ...section(SECTION.function, vector([u32(0)])),
    ...section(SECTION.export, vector([[...utf8(source.name), FUNCTION_KIND, ...u32(0)]])),
    ...section(SECTION.code, vector([[...u32(code.length), ...code]])),
  ])
}

const section = (id: number, body: number[]) => [id, ...u32(body.length), ...body]
const vector = (items: readonly number[][]) => [...u32(items.length), ...items.flat()]
const utf8 = (text: string) => vector(Array.from(new TextEncoder().encode(text), (b) => [b]))

/** Locals are declared as runs of one type: `i32, i32, v128` is (2 × i32) (1 × v128). */
function localRuns(locals: readonly ValueType[]): number[][] {
  const runs: { count: number; type: ValueType }[] = []
  for (const type of locals) {
    const last = runs.at(-1)
    if (last?.type === type) last.count++
    else runs.push({ count: 1, type })
  }
  return runs.map(({ count, type }) => [...u32(count), VALUE_TYPES[type]])
}
