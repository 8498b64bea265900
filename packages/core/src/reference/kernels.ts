/** Every reference kernel, one table built from the per-family tables (explicit, no side effects). */
import { CONV_KERNELS } from './conv.ts'
import { ELEMENTWISE_KERNELS } from './elementwise.ts'
import { GENERATOR_KERNELS } from './generators.ts'
import { INDEXING_KERNELS } from './indexing.ts'
import { INDEXING_ND_KERNELS } from './indexing-nd.ts'
import type { Kernel } from './kernel.ts'
import { LINALG_KERNELS } from './linalg.ts'
import { LOSS_KERNELS } from './loss.ts'
import { MOVEMENT_KERNELS } from './movement.ts'
import { NORM_KERNELS } from './norm.ts'
import { RECURRENT_KERNELS } from './recurrent.ts'
import { REDUCE_KERNELS } from './reduce.ts'
import { resize } from './resize.ts'

export const KERNELS: Readonly<Record<string, Kernel>> = {
  ...ELEMENTWISE_KERNELS,
  ...LINALG_KERNELS,
  ...REDUCE_KERNELS,
  ...MOVEMENT_KERNELS,
  ...INDEXING_KERNELS,
  ...INDEXING_ND_KERNELS,
  ...NORM_KERNELS,
  ...CONV_KERNELS,
  ...GENERATOR_KERNELS,
  ...LOSS_KERNELS,
  ...RECURRENT_KERNELS,
  Resize: resize,
}
