/**
 * Which tensors of an imported graph are weights: the rule that decides which initializers are
 * trainable, and the Constant nodes that hold weights. Some exporters (paddle2onnx, older tf2onnx)
 * write every weight as a Constant node, leaving no initializer at all; `promoteConstantWeights`
 * turns those into initializers so they can be trained, by the same rule.
 */
import { readAttrs } from '../ops/attrs.ts'
import { constantValue } from '../ops/shape/generators.ts'
import { isFloat, numel, type Tensor } from '../tensor.ts'
import type { Graph, Node } from './types.ts'

/**
 * Input positions that hold statistics or settings, not weights, even as float tensors:
 * BatchNormalization's running mean and variance, Clip's bounds, Pad's value, Resize's roi and
 * scales, Dropout's ratio, Range's bounds.
 */
const NON_TRAINABLE_INPUTS: Readonly<Record<string, readonly number[]>> = {
  BatchNormalization: [3, 4],
  Clip: [1, 2],
  Pad: [2],
  Resize: [1, 2],
  Dropout: [1],
  Range: [0, 1, 2],
}

/** Beyond any weight's magnitude: a tensor holding such values (or ±inf) is an attention mask. */
const MASK_MAGNITUDE = 1e30

/**
 * A Constant becomes a weight from this many elements: a single number (3 and 6 of a hard-swish,
 * an epsilon, an exponent, even when shaped [1]) is arithmetic, not something to learn, while a
 * classifier's bias over two classes already is a weight.
 */
export const MIN_CONSTANT_WEIGHT_ELEMENTS = 2

/** The values read at a non-trainable position by some node of `graph`. */
export function settingValues(graph: Graph): Set<string> {
  const out = new Set<string>()
  for (const node of graph.nodes) {
    for (const i of NON_TRAINABLE_INPUTS[node.opType] ?? []) if (node.inputs[i]) out.add(node.inputs[i])
  }
  return out
}

/**
 * The default rule for initializers: floating-point ones of rank ≥ 1, except those read as
 * statistics or settings (see NON_TRAINABLE_INPUTS) and masks (holding ±inf or |v| ≥ 1e30); rank-0
 * ones are the dynamo exporter's scalar constants, like 0.5 in GELU.
 */
export function defaultTrainable(
  name: string,
  value: Tensor,
  graph: Graph,
  settings: ReadonlySet<string> = settingValues(graph),
): boolean {
  if (!isFloat(value.dtype) || value.shape.length === 0 || settings.has(name)) return false
  // the dynamo exporter folds causal masks into float initializers of 0 and -inf (or float min)
  if (value.dtype !== 'float16') {
    const d = value.data as Float32Array
    for (let i = 0; i < d.length; i++) if (!(Math.abs(d[i]) < MASK_MAGNITUDE)) return false
  }
  return true
}

/** A Constant node that holds a weight, under the name its readers know it by. */
export interface ConstantWeight {
  /** the parameter's name once promoted: the value its readers read (an Identity's output where one follows) */
  name: string
  /** the Constant node (and the Identity after it, where there is one) */
  nodes: string[]
  shape: number[]
  elements: number
}

/**
 * The Constant nodes of `graph` (or Identity-of-Constant pairs) that hold weights: floating-point,
 * at least MIN_CONSTANT_WEIGHT_ELEMENTS elements, and trainable by `defaultTrainable`. Largest first.
 */
export function constantWeights(graph: Graph): ConstantWeight[] {
  const found = findConstantWeights(graph)
  return found
    .map(({ name, nodes, value }) => ({
      name,
      nodes: nodes.map((n) => n.name),
      shape: [...value.shape],
      elements: numel(value.shape),
    }))
    .sort((a, b) => b.elements - a.elements || a.name.localeCompare(b.name))
}

interface Found {
  name: string
  nodes: Node[]
  value: Tensor
}

function findConstantWeights(graph: Graph): Found[] {
  const readers = new Map<string, Node[]>()
  for (const n of graph.nodes) {
    for (const i of n.inputs) {
      const list = readers.get(i)
      if (list === undefined) readers.set(i, [n])
      else list.push(n)
    }
  }
  const outputs = new Set(graph.outputs.map((v) => v.name))
  const settings = settingValues(graph)
  const found: Found[] = []
  for (const node of graph.nodes) {
    if (node.opType !== 'Constant' || node.domain !== undefined || node.outputs.length !== 1) continue
    const value = constantOf(node)
    if (value === undefined || !isFloat(value.dtype) || numel(value.shape) < MIN_CONSTANT_WEIGHT_ELEMENTS)
      continue
    const [out] = node.outputs
    const only = readers.get(out)
    const identity =
      only?.length === 1 && only[0].opType === 'Identity' && !outputs.has(out) ? only[0] : undefined
    const name = identity?.outputs[0] ?? out
    if (outputs.has(name) || !defaultTrainable(name, value, graph, settings)) continue
    found.push({ name, nodes: identity ? [node, identity] : [node], value })
  }
  return found
}

function constantOf(node: Node): Tensor | undefined {
  try {
    return constantValue(node, readAttrs(node))
  } catch {
    return undefined
  }
}

/**
 * Turns every constant weight of `graph` (see constantWeights) into an initializer of the same
 * name, removing its Constant (and Identity) node, and returns the names. Whether they are trained
 * is the caller's to decide, as for any initializer.
 */
export function promoteConstantWeights(graph: Graph): string[] {
  const found = findConstantWeights(graph)
  const removed = new Set(found.flatMap((f) => f.nodes))
  for (const f of found) graph.initializers.set(f.name, f.value)
  graph.nodes = graph.nodes.filter((n) => !removed.has(n))
  return found.map((f) => f.name)
}
