/**
 * Einsum equations ("bij,bjk->bik", "...ij,...jk", "ii->i") parsed into per-operand letter lists,
 * with "..." expanded to one capital letter per broadcast dim. Shared by shape inference, the
 * reference kernel and the cost model.
 */
import { AtollError } from '../errors.ts'
import type { Dim } from '../graph/types.ts'

export interface EinsumPlan {
  /** letters of each input, one per dim */
  inputs: string[][]
  output: string[]
  /** size of every letter (broadcast over size-1 ellipsis dims) */
  sizes: Map<string, Dim>
}

/** Capital letters stand for ellipsis dims: ONNX equations use lower-case letters only. */
const ELLIPSIS_LETTERS = 'ZYXWVUTSRQPONMLKJIHGFEDCBA'

export class EinsumEquationError extends AtollError {}

function expand(term: string, rank: number): string[] {
  const [before, after] = term.includes('...') ? term.split('...') : [term, undefined]
  const letters = [...before]
  if (after !== undefined) {
    const e = rank - before.length - after.length
    if (e < 0) throw new EinsumEquationError(`'${term}' has more letters than the operand's rank ${rank}`)
    // right-aligned, as numpy broadcasts: the last ellipsis dim is always 'Z'
    letters.push(...ELLIPSIS_LETTERS.slice(0, e).split('').reverse(), ...after)
  }
  if (letters.length !== rank)
    throw new EinsumEquationError(`'${term}' names ${letters.length} dims, the operand has ${rank}`)
  return letters
}

/** The plan of `equation` over operands of the given shapes. */
export function planEinsum(equation: string, shapes: readonly Dim[][]): EinsumPlan {
  const eq = equation.replace(/\s/g, '')
  const [lhs, rhs] = eq.includes('->') ? eq.split('->') : [eq, undefined]
  const terms = lhs.split(',')
  if (terms.length !== shapes.length)
    throw new EinsumEquationError(`'${equation}' has ${terms.length} operands, the node ${shapes.length}`)
  const ellipsisRank = Math.max(
    0,
    ...terms.map((t, i) => (t.includes('...') ? shapes[i].length - t.replace('...', '').length : 0)),
  )
  const inputs = terms.map((t, i) => expand(t, shapes[i].length))
  const sizes = new Map<string, Dim>()
  inputs.forEach((letters, i) => {
    letters.forEach((l, j) => {
      const d = shapes[i][j]
      const seen = sizes.get(l)
      if (seen === undefined || seen === 1) sizes.set(l, d)
      else if (d !== 1 && d !== seen && typeof d === 'number' && typeof seen === 'number') {
        throw new EinsumEquationError(`'${l}' is ${seen} in one operand and ${d} in another`)
      }
    })
  })
  const ellipsis = ELLIPSIS_LETTERS.slice(0, ellipsisRank).split('').reverse()
  const counts = new Map<string, number>()
  for (const l of inputs.flat()) counts.set(l, (counts.get(l) ?? 0) + 1)
  const output =
    rhs === undefined
      ? [
          ...ellipsis,
          ...[...counts]
            .filter(([l, n]) => n === 1 && l >= 'a')
            .map(([l]) => l)
            .sort(),
        ]
      : rhs.includes('...')
        ? [...rhs.split('...')[0], ...ellipsis, ...rhs.split('...')[1]]
        : [...rhs]
  for (const l of output)
    if (!sizes.has(l)) throw new EinsumEquationError(`output letter '${l}' is not an input letter`)
  return { inputs, output, sizes }
}
