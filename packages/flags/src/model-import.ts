/**
 * The flags of the commands that import an ONNX file to run or train it (`atoll fit`, `grads` and
 * `eval`): one table, so that the three take the same flag with the same meaning.
 */
import { MIN_CONSTANT_WEIGHT_ELEMENTS } from '@atoll/core'
import type { FlagTable } from './table.ts'

export const ONNX_IMPORT_FLAGS = {
  'train-constants': {
    what:
      'train the weights the file keeps in Constant nodes, each named after its value\n' +
      `(floating-point, at least ${MIN_CONSTANT_WEIGHT_ELEMENTS} elements, not a statistic or setting;\n` +
      '`atoll inspect` lists them as constant weights)',
  },
} satisfies FlagTable
