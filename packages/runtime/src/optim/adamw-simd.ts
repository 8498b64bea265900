/**
 * AdamW's element loop on @atoll/simd's WebAssembly SIMD kernel (PyTorch's float32 order of
 * operations, about 3× the plain-JS loop), or on the JS loop where the engine lacks SIMD.
 */
import { type AdamwCoefficients, adamwSimd } from '@atoll/simd'
import { type AdamSlot, adamwRange } from './adamw-kernels.ts'

/** `adamwRange` with the SIMD kernel: same arguments, PyTorch's float32 order of operations. */
export function adamwRangeSimd(
  slot: AdamSlot,
  from: number,
  to: number,
  coefficients: AdamwCoefficients,
): void {
  if (!adamwSimd(slot, from, to, coefficients)) adamwRange(slot, from, to, coefficients)
}
