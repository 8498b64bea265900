import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  assembleKernel,
  type KernelSource,
  lazyKernel,
  MEMORY_IMPORT,
  op,
  reserveMemory,
  simdSupported,
} from '../src/index.ts'

const { localGet: get, localSet: set } = op

/** The kernel's function run once on a fresh memory; returns that memory's first bytes. */
function runOnce(source: KernelSource, ...args: number[]): ArrayBuffer {
  const memory = new WebAssembly.Memory({ initial: 1 })
  const module = new WebAssembly.Module(assembleKernel(source))
  const instance = new WebAssembly.Instance(module, {
    [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory },
  })
  ;(instance.exports[source.name] as (...a: number[]) => void)(...args)
  return memory.buffer
}

test('a SIMD loop over locals assembles, validates and runs: n times splat(1.5) summed', () => {
  assert.ok(simdSupported(), 'Node 24 runs WebAssembly SIMD')
  const [N, I, ACC] = [0, 1, 2]
  // biome-ignore format: one statement per line
  const body = [
    ...op.v128Const(new Array(16).fill(0)), ...set(ACC),
    ...op.block, ...op.loop, // while i < n
    ...get(I), ...get(N), ...op.i32GeU, ...op.brIf(1),
    ...get(ACC), ...op.f32Const(1.5), ...op.f32x4Splat, ...op.f32x4Add, ...set(ACC),
    ...get(I), ...op.i32Const(1), ...op.i32Add, ...set(I),
    ...op.br(0),
    ...op.end, ...op.end,
    ...op.i32Const(16), ...get(ACC), ...op.v128Store(0),
  ]
  const source: KernelSource = { name: 'sum', params: ['i32'], locals: ['i32', 'v128'], body }
  assert.ok(WebAssembly.validate(assembleKernel(source)))
  assert.deepEqual(Array.from(new Float32Array(runOnce(source, 7), 16, 4)), [10.5, 10.5, 10.5, 10.5])
  assert.deepEqual(Array.from(new Float32Array(runOnce(source, 0), 16, 4)), [0, 0, 0, 0])
})

test('immediates past one byte: a local numbered 200, a negative i32.const, an offset of 300', () => {
  const locals = [...new Array<'i32'>(200).fill('i32'), 'f32' as const] // 200 i32 locals: a run count of two bytes
  // biome-ignore format: one statement per line
  const body = [
    ...op.i32Const(-123456), ...op.f32ReinterpretI32, ...set(200),
    ...op.i32Const(0), ...get(200), ...op.f32Store(300),
  ]
  const source: KernelSource = { name: 'store', params: [], locals, body }
  assert.equal(new Int32Array(runOnce(source), 300, 1)[0], -123456)
})

test('a kernel is built once, and its memory grows on request', () => {
  const source: KernelSource = {
    name: 'double',
    params: [],
    locals: [],
    body: [
      ...[...op.i32Const(0), ...op.i32Const(0), ...op.v128Load(0)],
      ...[...op.i32Const(0), ...op.v128Load(0), ...op.f32x4Add, ...op.v128Store(0)],
    ],
  }
  const double = lazyKernel<() => void>(source, 70_000)
  const kernel = double()
  assert.ok(kernel !== null)
  assert.equal(double(), kernel)
  assert.equal(kernel.memory.buffer.byteLength, 2 * 65536, 'memory in whole pages')
  const floats = new Float32Array(kernel.memory.buffer, 0, 4)
  floats.set([1, 2, 3, -4])
  kernel.run()
  assert.deepEqual(Array.from(floats), [2, 4, 6, -8])
  assert.ok(reserveMemory(kernel.memory, 3 * 65536 + 1))
  assert.equal(kernel.memory.buffer.byteLength, 4 * 65536)
})

test('v128.const takes exactly 16 bytes', () => {
  assert.throws(() => op.v128Const([1, 2, 3]), /16 bytes, got 3/)
})
