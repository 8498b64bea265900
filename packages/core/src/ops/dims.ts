/**
 * Arithmetic on dimensions that may be symbolic (`batch`, `seq`). A symbol stays a string through
 * products and sums ("batch*seq"), so that shapes of dynamic graphs stay readable and comparable.
 */
import type { Dim } from '../graph.ts'

export function isStaticShape(shape: readonly Dim[]): shape is number[] {
  return shape.every((d) => typeof d === 'number')
}

/** Product of dims: a number when all are numbers, else a symbolic product. */
export function dimProduct(dims: readonly Dim[]): Dim {
  let n = 1
  const syms: string[] = []
  for (const d of dims) {
    if (typeof d === 'number') n *= d
    else syms.push(d)
  }
  if (syms.length === 0) return n
  if (n === 0) return 0
  return n === 1 ? syms.join('*') : [String(n), ...syms].join('*')
}

/** a op b for shape arithmetic, symbolic when either side is a symbol. */
export function dimArith(op: '+' | '-' | '*' | '/', a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') {
    if (op === '+') return a + b
    if (op === '-') return a - b
    if (op === '*') return a * b
    return Math.trunc(a / b)
  }
  if (op === '*' && (a === 1 || b === 1)) return a === 1 ? b : a
  if ((op === '+' || op === '-') && b === 0) return a
  if (op === '/' && b === 1) return a
  return `(${a}${op}${b})`
}

/** Replaces bound symbols by their sizes. */
export function bindDims(shape: readonly Dim[], bindings: Readonly<Record<string, number>>): Dim[] {
  return shape.map((d) => (typeof d === 'string' && Object.hasOwn(bindings, d) ? bindings[d] : d))
}

/** Dims as text for error messages: [batch,3,224,224]. */
export function showShape(shape: readonly Dim[] | undefined): string {
  return shape === undefined ? '[?]' : `[${shape.join(',')}]`
}
