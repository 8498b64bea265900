/**
 * Just enough of the WebAssembly binary format to assemble a small kernel from named opcodes
 * (see int8-simd.ts): LEB128 integers, sections, and the instructions that kernel uses, by their
 * names in the WebAssembly spec (SIMD ones behind the 0xfd prefix).
 */

export const leb = (n: number): number[] => {
  const out: number[] = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return out
}
const sleb = (n: number): number[] => {
  const out: number[] = []
  for (;;) {
    const byte = n & 0x7f
    n >>= 7
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte]
    out.push(byte | 0x80)
  }
}
export const wasmName = (s: string) => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))]
export const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body]
const f32 = (v: number) => [...new Uint8Array(Float32Array.of(v).buffer)]
const memarg = (offset: number) => [0, ...leb(offset)]

// Opcodes (core and the 0xfd SIMD prefix), by their names in the WebAssembly spec.
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  select: [0x1b],
  get: (i: number) => [0x20, i],
  set: (i: number) => [0x21, i],
  tee: (i: number) => [0x22, i],
  f32Store: [0x38, ...memarg(0)],
  i32Const: (v: number) => [0x41, ...sleb(v)],
  f32Const: (v: number) => [0x43, ...f32(v)],
  i32LtU: [0x49],
  i32GtU: [0x4b],
  i32GeU: [0x4f],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Shl: [0x74],
  f32Div: [0x95],
  f32ReinterpretI32: [0xbe],
  v128Load: (offset: number) => [0xfd, ...leb(0x00), ...memarg(offset)],
  v128Store: [0xfd, ...leb(0x0b), ...memarg(0)],
  v128Zero: [0xfd, ...leb(0x0c), ...new Array(16).fill(0)],
  i32x4Splat: [0xfd, ...leb(0x11)],
  f32x4Splat: [0xfd, ...leb(0x13)],
  i32x4ExtractLane: (lane: number) => [0xfd, ...leb(0x1b), lane],
  v128And: [0xfd, ...leb(0x4e)],
  i8x16NarrowI16x8S: [0xfd, ...leb(0x65)],
  f32x4Nearest: [0xfd, ...leb(0x6a)],
  i16x8NarrowI32x4S: [0xfd, ...leb(0x85)],
  i32x4MaxU: [0xfd, ...leb(0xb9)],
  f32x4Mul: [0xfd, ...leb(0xe6)],
  i32x4TruncSatF32x4S: [0xfd, ...leb(0xf8)],
}
