/**
 * Arithmetic on dimensions that may be symbolic (`batch`, `seq`). Symbolic dims are kept as
 * polynomials in canonical text — "batch*seq", "seq+1", "2*n-1" — so that equal sizes reached by
 * different paths ((1+seq)−1 and seq) compare equal, and bindings can evaluate them.
 */
import type { Dim } from '../graph/types.ts'

export function isStaticShape(shape: readonly Dim[]): shape is number[] {
  return shape.every((d) => typeof d === 'number')
}

/** const + Σ coefficient·monomial; a monomial is its atoms (symbols) sorted and joined by '*'. */
interface Poly {
  c: number
  terms: Map<string, number>
}

/** Splits `s` at the top-level (outside parentheses) characters in `seps`, keeping each separator. */
function splitTop(s: string, seps: string): { sep: string; text: string }[] {
  const out = [{ sep: '', text: '' }]
  let depth = 0
  for (const ch of s) {
    if (ch === '(' || ch === '[') depth++
    if (ch === ')' || ch === ']') depth--
    if (depth === 0 && seps.includes(ch) && out[out.length - 1].text !== '') out.push({ sep: ch, text: '' })
    else out[out.length - 1].text += ch
  }
  return out
}

const wrapped = (s: string) =>
  s.startsWith('(') && s.endsWith(')') && splitTop(s.slice(1, -1), '').length === 1

function parse(d: Dim): Poly {
  if (typeof d === 'number') return { c: d, terms: new Map() }
  let s = d.trim()
  while (wrapped(s) && !splitTop(s.slice(1, -1), '/').some((p) => p.sep === '/')) s = s.slice(1, -1)
  const poly: Poly = { c: 0, terms: new Map() }
  for (const { sep, text } of splitTop(s, '+-')) {
    const sign = sep === '-' || text.startsWith('-') ? -1 : 1
    let k = sign
    const atoms: string[] = []
    for (const { text: f } of splitTop(text.replace(/^-/, ''), '*')) {
      if (/^\d+$/.test(f)) k *= Number(f)
      else atoms.push(f)
    }
    addTerm(poly, atoms.sort().join('*'), k)
  }
  return poly
}

function addTerm(p: Poly, key: string, k: number) {
  if (key === '') p.c += k
  else p.terms.set(key, (p.terms.get(key) ?? 0) + k)
}

function render(p: Poly): Dim {
  const terms = [...p.terms].filter(([, k]) => k !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  if (terms.length === 0) return p.c
  if (terms.length === 1 && p.c === 0 && terms[0][1] === 1) return terms[0][0]
  const parts = terms.map(([key, k]) => (k === 1 ? key : k === -1 ? `-${key}` : `${k}*${key}`))
  if (p.c !== 0) parts.push(String(p.c))
  return parts.reduce((s, t) => (t.startsWith('-') ? `${s}${t}` : `${s}+${t}`))
}

/**
 * A symbol as written in a model (ONNX dim_param) may contain operator characters ("seq-len"); it is
 * bracketed ("[seq-len]") so that it stays one atom in expressions.
 */
export function symbolDim(name: string): string {
  return /^[^+\-*/()[\]\s]+$/.test(name) ? name : `[${name}]`
}

/** A sum used as a factor is parenthesised, so "(seq+1)*2" is not read as "seq+2". */
const factor = (d: Dim) => (typeof d === 'string' && splitTop(d, '+-').length > 1 ? `(${d})` : String(d))

function times(a: Poly, b: Poly): Poly {
  const out: Poly = { c: a.c * b.c, terms: new Map() }
  const items = (p: Poly): [string, number][] => [...p.terms, ['', p.c]]
  for (const [ka, va] of items(a)) {
    for (const [kb, vb] of items(b)) {
      if (ka === '' && kb === '') continue
      addTerm(
        out,
        [...ka.split('*'), ...kb.split('*')]
          .filter((x) => x !== '')
          .sort()
          .join('*'),
        va * vb,
      )
    }
  }
  return out
}

/** a op b for shape arithmetic; symbolic when either side is a symbol. */
export function dimArith(op: '+' | '-' | '*' | '/', left: Dim, right: Dim): Dim {
  if (typeof left === 'number' && typeof right === 'number') {
    if (op === '+') return left + right
    if (op === '-') return left - right
    if (op === '*') return left * right
    return Math.trunc(left / right)
  }
  const pa = parse(left)
  const pb = parse(right)
  if (op === '+' || op === '-') {
    const s = op === '+' ? 1 : -1
    for (const [key, k] of pb.terms) addTerm(pa, key, s * k)
    pa.c += s * pb.c
    return render(pa)
  }
  if (op === '*') return render(times(pa, pb))
  if (
    typeof right === 'number' &&
    right !== 0 &&
    pa.c % right === 0 &&
    [...pa.terms.values()].every((k) => k % right === 0)
  ) {
    return render({ c: pa.c / right, terms: new Map([...pa.terms].map(([key, k]) => [key, k / right])) })
  }
  return `(${factor(left)}/${factor(right)})`
}

/** Product of dims: a number when all are numbers, else a symbolic product. */
export function dimProduct(dims: readonly Dim[]): Dim {
  return dims.reduce<Dim>((acc, d) => dimArith('*', acc, d), 1)
}

/** Replaces bound symbols by their sizes, evaluating expressions ("batch*seq") whose symbols are all bound. */
export function bindDims(shape: readonly Dim[], bindings: Readonly<Record<string, number>>): Dim[] {
  const value = (atom: string): number | undefined => {
    const name = atom.startsWith('[') && atom.endsWith(']') ? atom.slice(1, -1) : atom
    return Object.hasOwn(bindings, name) ? bindings[name] : undefined
  }
  return shape.map((d) => {
    if (typeof d === 'number') return d
    if (value(d) !== undefined) return value(d) as number
    const p = parse(d)
    let total = p.c
    for (const [key, k] of p.terms) {
      const atoms = key.split('*').map(value)
      if (atoms.some((v) => v === undefined)) return d
      total += k * (atoms as number[]).reduce((x, y) => x * y, 1)
    }
    return total
  })
}

/** Dims as text for error messages: [batch,3,224,224]. */
export function showShape(shape: readonly Dim[] | undefined): string {
  return shape === undefined ? '[?]' : `[${shape.join(',')}]`
}
