/** Every op's shape function, one table built from the per-family tables (explicit, no side effects). */
import type { ShapeFn } from './context.ts'
import { ELEMENTWISE_SHAPES } from './elementwise.ts'
import { GENERATOR_SHAPES } from './generators.ts'
import { INDEXING_SHAPES } from './indexing.ts'
import { LINALG_SHAPES } from './linalg.ts'
import { MOVEMENT_SHAPES } from './movement.ts'
import { NN_SHAPES } from './nn.ts'
import { RECURRENT_SHAPES } from './recurrent.ts'
import { REDUCE_SHAPES } from './reduce.ts'
import { RESIZE_SHAPES } from './resize.ts'

export const SHAPE_FNS: Readonly<Record<string, ShapeFn>> = {
  ...ELEMENTWISE_SHAPES,
  ...LINALG_SHAPES,
  ...MOVEMENT_SHAPES,
  ...INDEXING_SHAPES,
  ...REDUCE_SHAPES,
  ...NN_SHAPES,
  ...GENERATOR_SHAPES,
  ...RESIZE_SHAPES,
  ...RECURRENT_SHAPES,
}
