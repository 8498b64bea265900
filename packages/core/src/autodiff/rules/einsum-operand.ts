/**
 * How one Einsum operand's gradient is computed, planned from the forward's parsed equation
 * (ops/einsum.ts): dXᵢ[its letters] = Σ over the other letters of g[output letters]·Πⱼ≠ᵢ Xⱼ. One
 * Einsum cannot write that when Xᵢ
 * - repeats a letter (a diagonal, "ii->i"): an Einsum output names each letter once, so the product
 *   lands on the letter's first position and a constant 0/1 mask spreads it over the diagonal;
 * - has a letter no other term has (summed out, "ij->i"): the gradient does not depend on it, so it
 *   is left out of the Einsum and the result expanded over it;
 * - has a size-1 dim that the forward broadcast: the Einsum sums the letter away, the reshape puts
 *   the 1 back.
 * A size-1 broadcast dim of another operand gets a letter of its own (summed over one value), so no
 * gradient Einsum relies on broadcasting; rank-0 terms are multiplied in after, since an Einsum term
 * cannot be empty.
 */
import { EinsumEquationError, type EinsumPlan } from '../../ops/einsum.ts'
import { numel } from '../../tensor.ts'

/** A term of the gradient: −1 is the output gradient, k ≥ 0 the forward's operand k. */
export type TermSource = number

export interface OperandGradPlan {
  operand: number
  /** the terms one Einsum contracts (none when every term is rank 0) */
  terms: TermSource[]
  /** the Einsum's equation; undefined when the lone term already is the result */
  equation?: string
  /** rank-0 terms, multiplied into the Einsum's result */
  scalars: TermSource[]
  /** the operand's rank: each kept letter's size at its first position, 1 elsewhere */
  layout: number[]
  /** whether the product needs reshaping to `layout` (it has 1s to insert) */
  reshape: boolean
  /** the 0/1 diagonal mask (operand's rank, 1 where no letter repeats), when a letter repeats */
  mask?: { shape: number[]; values: Float64Array }
  /** whether the masked layout still needs an Expand to the operand's shape */
  expand: boolean
}

/** ONNX Einsum letters: lower case first, then upper case. */
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'

/** The gradient plan of operand `operand` of the Einsum `plan` over operands of `shapes`. */
export function einsumOperandGrad(
  plan: EinsumPlan,
  shapes: readonly number[][],
  operand: number,
): OperandGradPlan {
  const size = (letter: string) => plan.sizes.get(letter) as number
  const broadcast = (k: number, p: number) => shapes[k][p] === 1 && size(plan.inputs[k][p]) !== 1
  const sources = [-1, ...plan.inputs.keys()].filter((k) => k !== operand)
  const lettersOf = (k: TermSource) => (k < 0 ? plan.output : plan.inputs[k])
  const full = (k: TermSource, p: number) => k < 0 || !broadcast(k, p)
  const available = new Set(sources.flatMap((k) => lettersOf(k).filter((_, p) => full(k, p))))
  const own = plan.inputs[operand]
  const ownFull = own.map((_, p) => full(operand, p))
  const positions = (letter: string) => own.flatMap((l, p) => (l === letter && ownFull[p] ? [p] : []))
  const unique = [...new Set(own.filter((_, p) => ownFull[p]))]
  const keep = unique.filter((l) => available.has(l))
  const layout = own.map((l, p) => (keep.includes(l) && positions(l)[0] === p ? size(l) : 1))
  const repeated = unique.filter((l) => positions(l).length > 1)
  const maskShape = own.map((l, p) => (ownFull[p] && repeated.includes(l) ? size(l) : 1))
  const reached = own.map((_, p) => Math.max(layout[p], maskShape[p]))
  const names = letterNames()
  const termLetters = (k: TermSource) =>
    lettersOf(k)
      .map((l, p) => (full(k, p) ? names.of(l) : names.fresh()))
      .join('')
  const terms = sources.filter((k) => lettersOf(k).length > 0)
  const inputs = terms.map(termLetters)
  const result = keep.map((l) => names.of(l)).join('')
  const identity = terms.length === 1 && inputs[0] === result
  return {
    operand,
    terms,
    equation: identity || terms.length === 0 ? undefined : `${inputs.join(',')}->${result}`,
    scalars: sources.filter((k) => lettersOf(k).length === 0),
    layout,
    reshape: layout.length !== keep.length,
    mask: repeated.length > 0 ? diagonalMask(own, maskShape, repeated) : undefined,
    expand: reached.some((d, p) => d !== shapes[operand][p]),
  }
}

/** Gradient-equation letters: each forward letter renamed once, and fresh ones on demand. */
function letterNames() {
  const named = new Map<string, string>()
  let next = 0
  const fresh = () => {
    if (next >= LETTERS.length)
      throw new EinsumEquationError(`the gradient needs over ${LETTERS.length} letters`)
    return LETTERS[next++]
  }
  const of = (letter: string) => {
    const name = named.get(letter) ?? fresh()
    named.set(letter, name)
    return name
  }
  return { of, fresh }
}

/** 1 where every repeated letter has one index at all its positions, 0 elsewhere. */
function diagonalMask(own: readonly string[], shape: number[], repeated: readonly string[]) {
  const values = new Float64Array(numel(shape))
  const index = new Array<number>(shape.length).fill(0)
  for (let k = 0; k < values.length; k++) {
    let rest = k
    for (let p = shape.length - 1; p >= 0; p--) {
      index[p] = rest % shape[p]
      rest = Math.floor(rest / shape[p])
    }
    const onDiagonal = repeated.every((l) => {
      const at = own.flatMap((m, p) => (m === l && shape[p] > 1 ? [index[p]] : []))
      return at.every((i) => i === at[0])
    })
    values[k] = onDiagonal ? 1 : 0
  }
  return { shape, values }
}
