/**
 * @atoll/simd: the WebAssembly SIMD kernels of Atoll (compress's int8 block quantiser, runtime's
 * AdamW step) and the assembler they are written with: instructions by their spec names, one
 * function over an imported memory, no build step and no binary blob. Each kernel is null where
 * the engine lacks SIMD, and its caller keeps a plain-JS loop for that. Browser-safe.
 *
 * @example
 * ```ts
 * import { lazyKernel, op, quantiseFullBlocks } from '@atoll/simd'
 * // a kernel of your own: the four floats at byte 0 of its memory, doubled in place
 * const double = lazyKernel<() => void>({
 *   name: 'double',
 *   params: [],
 *   locals: [],
 *   body: [...op.i32Const(0), ...op.i32Const(0), ...op.v128Load(0), ...op.i32Const(0), ...op.v128Load(0),
 *     ...op.f32x4Add, ...op.v128Store(0)],
 * })()
 * const floats = new Float32Array(double!.memory.buffer, 0, 4)
 * floats.set([1, 2, 3, 4])
 * double!.run() // floats: [2, 4, 6, 8]
 *
 * // the int8 quantiser: one block of 16 values → its absmax and 16 codes
 * const scales = new Float32Array(1)
 * const codes = new Int8Array(16)
 * quantiseFullBlocks(Float32Array.from({ length: 16 }, (_, i) => i - 8), 16, scales, codes) // 1 block
 * scales[0] // 8; codes[0] = -127, codes[12] = 64
 * ```
 */
export { type AdamwArrays, type AdamwCoefficients, adamwSimd, adamwSimdAvailable } from './adamw.ts'
export {
  assembleKernel,
  type KernelSource,
  MEMORY_IMPORT,
  op,
  VALUE_TYPES,
  type ValueType,
} from './assembler.ts'
export { MIN_ABSMAX_BITS, int8SimdAvailable, quantiseFullBlocks } from './int8-quantise.ts'
export { type Kernel, lazyKernel, reserveMemory, simdSupported } from './kernel.ts'
