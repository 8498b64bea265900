/**
 * Symbolic values of small integer tensors. PyTorch exports compute shapes at run time
 * (Shape → Gather → Unsqueeze → Concat → Reshape); when a dim is symbolic those values cannot be
 * folded to numbers, so they are tracked as Dim lists and the usual shape ops are applied to them.
 */
import type { Dim, Node } from '../graph/types.ts'
import { normAxis } from './attrs.ts'
import { dimArith } from './dims.ts'
import { resolveSlice } from './geometry.ts'

const ARITH: Record<string, '+' | '-' | '*' | '/'> = { Add: '+', Sub: '-', Mul: '*', Div: '/' }
const PASS_THROUGH = new Set(['Identity', 'Cast', 'Squeeze', 'Unsqueeze', 'Reshape', 'Expand', 'Flatten'])

/**
 * The Dim list of `node`'s first output from the Dim lists of its inputs (undefined where unknown),
 * or undefined when the op is not one that shape computations use.
 */
export function symbolicOutput(node: Node, inputs: (Dim[] | undefined)[]): Dim[] | undefined {
  const [a, b] = inputs
  if (PASS_THROUGH.has(node.opType)) return a
  if (node.opType === 'Concat')
    return inputs.every((d) => d !== undefined) ? (inputs.flat() as Dim[]) : undefined
  if (a === undefined) return undefined
  if (node.opType === 'Gather' && b !== undefined) {
    if (!b.every((i) => typeof i === 'number')) return undefined
    return b.map((i) => a[normAxis(node, i as number, a.length)])
  }
  if (node.opType === 'Slice') {
    const [, starts, ends, , steps] = inputs
    if (!starts || !ends || typeof starts[0] !== 'number' || typeof ends[0] !== 'number') return undefined
    const step = typeof steps?.[0] === 'number' ? steps[0] : 1
    const { first, count } = resolveSlice(a.length, starts[0], ends[0], step)
    return Array.from({ length: count }, (_, i) => a[first + i * step])
  }
  const op = ARITH[node.opType]
  if (op && b !== undefined) {
    const n = Math.max(a.length, b.length)
    if ((a.length !== n && a.length !== 1) || (b.length !== n && b.length !== 1)) return undefined
    return Array.from({ length: n }, (_, i) =>
      dimArith(op, a[a.length === 1 ? 0 : i], b[b.length === 1 ? 0 : i]),
    )
  }
  return undefined
}
