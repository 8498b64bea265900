/**
 * Typed attribute access with the contract's defaults, so that kernels and shape functions never
 * repeat a default (and never disagree about one).
 */
import type { Attribute, Node } from '../graph/types.ts'
import type { Tensor } from '../tensor.ts'
import { type AttrSpec, isSupportedOp, OPS } from './contract.ts'
import { AttributeError } from './errors.ts'

export interface Attrs {
  /** whether the node sets the attribute (defaults do not count) */
  has(name: string): boolean
  /** an int attribute, or its default; throws AttributeError when neither exists */
  int(name: string): number
  optInt(name: string): number | undefined
  /** a float attribute (an int is accepted), or its default */
  float(name: string): number
  ints(name: string): number[] | undefined
  floats(name: string): number[] | undefined
  string(name: string): string
  tensor(name: string): Tensor | undefined
}

/** The attribute reader of `node`, checking kinds against the op contract. */
export function readAttrs(node: Node): Attrs {
  const specs: Readonly<Record<string, AttrSpec>> = isSupportedOp(node.opType, node.domain)
    ? OPS[node.opType].attributes
    : {}
  const get = (name: string, kinds: Attribute['kind'][]): Attribute | undefined => {
    const a = node.attributes[name]
    if (a === undefined) return undefined
    if (!kinds.includes(a.kind)) {
      throw new AttributeError(node, `attribute '${name}' should be ${kinds.join(' or ')}, found ${a.kind}`)
    }
    return a
  }
  const fallback = (name: string): AttrSpec['default'] => {
    const d = specs[name]?.default
    if (d === undefined) throw new AttributeError(node, `attribute '${name}' is required`)
    return d
  }
  return {
    has: (name) => node.attributes[name] !== undefined,
    int: (name) => (get(name, ['int'])?.value as number | undefined) ?? (fallback(name) as number),
    optInt: (name) => (get(name, ['int'])?.value as number | undefined) ?? (specs[name]?.default as number),
    float: (name) => (get(name, ['float', 'int'])?.value as number | undefined) ?? (fallback(name) as number),
    ints: (name) => get(name, ['ints'])?.value as number[] | undefined,
    floats: (name) => get(name, ['floats'])?.value as number[] | undefined,
    string: (name) => (get(name, ['string'])?.value as string | undefined) ?? (fallback(name) as string),
    tensor: (name) => get(name, ['tensor'])?.value as Tensor | undefined,
  }
}

/** Normalises a possibly negative axis against `rank`; throws AttributeError when out of range. */
export function normAxis(node: Node, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new AttributeError(node, `axis ${axis} is out of range for rank ${rank}`)
  }
  return a
}

/**
 * Whether `node` takes `attribute` as an input at `opset` (axes of Unsqueeze from 13, …); a node that
 * still sets the attribute there is malformed (onnxruntime rejects it), so that is an AttributeError.
 */
export function inputForm(node: Node, attribute: string, opset: number): boolean {
  const asInput = takesAsInput(node.opType, attribute, opset)
  if (asInput && node.attributes[attribute] !== undefined) {
    throw new AttributeError(node, `'${attribute}' is an input from this opset (${opset}), not an attribute`)
  }
  return asInput
}

/** Whether the op takes `attribute` as an input at `opset` (axes of Unsqueeze from 13, …). */
export function takesAsInput(opType: string, attribute: string, opset: number): boolean {
  if (!isSupportedOp(opType)) return false
  const since = (OPS[opType] as { inputSince?: Record<string, number> }).inputSince?.[attribute]
  return since !== undefined && opset >= since
}
