/**
 * The model a backend runs before it is handed out, y = x + x over float32[2], to check that an
 * execution provider really initialises and computes.
 */
import { exportOnnx, GraphBuilder } from '@atoll/core'

export const PROBE_INPUT = [1.5, -2]
export const PROBE_EXPECTED = [3, -4]

export function probeModel(): Uint8Array {
  const b = new GraphBuilder('probe')
  const x = b.input('x', 'float32', [PROBE_INPUT.length])
  b.node('Add', [x, x], {}, { outputs: ['y'] })
  b.output('y', 'float32', [PROBE_INPUT.length])
  return exportOnnx(b.build())
}
