/**
 * Re-tying parameters that an exporter duplicated. PyTorch's dynamo exporter stores a tied weight
 * (GPT-2's token embedding, also the output projection) twice: once as is for Gather and once
 * pre-transposed for MatMul. Trained as two parameters, the copies would drift apart; re-tied, the
 * copy becomes Transpose(original) and the gradients of both uses accumulate on one parameter.
 */
import type { Graph, Node } from '../graph/types.ts'
import { attr } from '../graph/types.ts'
import type { Tensor } from '../tensor.ts'

/** Only tensors with at least this many elements are compared: small ones coincide by chance. */
const MIN_ELEMENTS = 16

/**
 * Candidates share dtype and the multiset of dims (a transposed copy has the same); equal() and
 * transposedEqual() stop at the first differing element, which for distinct trained or random
 * weights is the first one, so comparing within a group costs next to nothing.
 */
function groupKey(t: Tensor): string {
  return `${t.dtype}:${[...t.shape].sort((a, b) => a - b).join('x')}`
}

/** Whether a tensor has at least two distinct values: equal constants (zeros, ones) are not copies. */
function varied(t: Tensor): boolean {
  const d = t.data as Float32Array
  for (let i = 1; i < d.length; i++) if (d[i] !== d[0]) return true
  return false
}

function equal(a: Tensor, b: Tensor): boolean {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return false
  const x = a.data as Float32Array
  const y = b.data as Float32Array
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false
  return true
}

function transposedEqual(a: Tensor, b: Tensor): boolean {
  if (a.shape.length !== 2 || b.shape.length !== 2) return false
  const [r, c] = a.shape
  if (b.shape[0] !== c || b.shape[1] !== r) return false
  const x = a.data as Float32Array
  const y = b.data as Float32Array
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) if (x[i * c + j] !== y[j * r + i]) return false
  return true
}

/**
 * Replaces each trainable initializer that equals (or is the transpose of) an earlier one by an
 * Identity / Transpose node reading the earlier one. Returns the pairs [copy, original] re-tied.
 */
export function retieDuplicateParameters(graph: Graph): [string, string][] {
  const seen = new Map<string, string[]>()
  const retied: [string, string][] = []
  const added: Node[] = []
  for (const name of [...graph.parameters]) {
    const t = graph.initializers.get(name)
    if (t === undefined || t.data.length < MIN_ELEMENTS || t.dtype === 'float16') continue
    const key = groupKey(t)
    const candidates = seen.get(key) ?? []
    const original = candidates.find((c) => {
      const o = graph.initializers.get(c)!
      return equal(o, t) || transposedEqual(o, t)
    })
    if (original === undefined || !varied(t)) {
      seen.set(key, [...candidates, name])
      continue
    }
    const o = graph.initializers.get(original)!
    const transposed = !equal(o, t)
    graph.initializers.delete(name)
    graph.parameters.delete(name)
    added.push({
      name: `retie/${name}`,
      opType: transposed ? 'Transpose' : 'Identity',
      inputs: [original],
      outputs: [name],
      attributes: transposed ? { perm: attr.ints([1, 0]) } : {},
      scope: graph.nodes.find((n) => n.inputs.includes(name))?.scope ?? '',
    })
    retied.push([name, original])
  }
  graph.nodes.unshift(...added)
  return retied
}
