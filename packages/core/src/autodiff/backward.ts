/**
 * buildBackward: reverse-mode autodiff over the OP-DAG. The walker is short: bind shapes, find the
 * values that depend on what is differentiated, visit the nodes in reverse topological order, apply
 * each op's rule to the gradients reaching its outputs, accumulate the gradients of values used
 * several times (Sum), and prune what no output needs.
 */
import type { Graph, Node, ValueInfo } from '../graph/types.ts'
import { inferTypes } from '../ops/infer.ts'
import { isFloat, type Tensor } from '../tensor.ts'
import { type ForwardFacts, gradContext, staticShape } from './context.ts'
import { GradEmitter } from './emitter.ts'
import { GradientTargetError, NoGradientRuleError } from './errors.ts'
import { NON_DIFFERENTIABLE } from './rule.ts'
import { RULES_BY_OP } from './rules/index.ts'

/** The lowest opset the emitted nodes are valid in (ReduceSum/Squeeze/Unsqueeze axes as inputs). */
export const MIN_AUTODIFF_OPSET = 13

export interface BackwardOptions {
  /** sizes of symbolic dims; every shape must be static once bound */
  bindings?: Readonly<Record<string, number>>
  /** graph inputs (or other values) whose gradients are wanted too, e.g. a stage's boundary inputs */
  inputs?: readonly string[]
  /** the values differentiated besides `inputs`; default: the graph's trainable parameters */
  parameters?: Iterable<string>
  /**
   * Write the input gradients of Conv/AveragePool as one ConvTranspose node (default true) instead of
   * a Conv over the stride-dilated gradient (false). On onnxruntime's WebGPU provider (on an H100)
   * the Conv form gave a ResNet-18's gradients below its strided blocks wrong, where ConvTranspose
   * gave the CPU's; on the CPU the two run equally fast (0.99–1.09×).
   */
  convTranspose?: boolean
}

export interface Backward {
  /** the backward graph: inputs are `saved` then the seeds; outputs are `grad.<name>` */
  graph: Graph
  /** forward values (activations, parameters, graph inputs) the backward graph reads */
  saved: string[]
  /** differentiated forward value → name of its incoming-gradient input (`grad.<value>`) */
  seeds: Map<string, string>
  /** parameter or input → name of its gradient output (`grad.<name>`) */
  gradients: Map<string, string>
  /** forward value types with shapes bound */
  types: Map<string, ValueInfo>
  /** names of the forward nodes whose gradient rule ran (what a test of the rules has covered) */
  differentiatedNodes: Set<string>
}

/** Name of the gradient of a forward value, used for seeds and outputs. */
export const gradName = (value: string): string => `grad.${value}`

/**
 * The backward graph of `graph` for the scalar (or any-shaped) outputs `loss`: one seed input
 * `grad.<loss>` per loss value, one output `grad.<p>` per differentiated value. Nodes must be in a
 * topological order. When the forward will run on onnxruntime, pass it through
 * decomposeTrainingOps first (buildTrainingGraph and partitionGraph do) and differentiate that.
 */
export function buildBackward(
  graph: Graph,
  loss: string | readonly string[],
  options: BackwardOptions = {},
): Backward {
  if (graph.opset < MIN_AUTODIFF_OPSET) {
    throw new GradientTargetError(
      `autodiff needs opset ≥ ${MIN_AUTODIFF_OPSET}, the graph has ${graph.opset}`,
    )
  }
  const { types, constants } = inferTypes(graph, { bindings: options.bindings })
  const losses = typeof loss === 'string' ? [loss] : [...loss]
  const wrt = [...(options.parameters ?? graph.parameters), ...(options.inputs ?? [])]
  for (const name of [...losses, ...wrt]) {
    const t = types.get(name)
    if (!t) throw new GradientTargetError(`'${name}' is not a value of graph '${graph.name}'`)
    if (!isFloat(t.dtype))
      throw new GradientTargetError(`'${name}' is ${t.dtype}, not a floating-point value`)
  }
  const needsGrad = dependents(graph, wrt, types)
  const taken = new Set<string>([...types.keys(), ...graph.nodes.map((n) => n.name)])
  const emit = new GradEmitter(taken)
  const grads = new GradientSums(emit)
  const seeds = new Map<string, string>()
  for (const l of losses) {
    const seed = gradName(l)
    if (taken.has(seed)) throw new GradientTargetError(`the seed name '${seed}' is already a forward value`)
    seeds.set(l, seed)
    grads.add(l, seed)
  }
  const convTranspose = options.convTranspose ?? true
  const facts = { types, constants, opset: graph.opset, needsGrad, convTranspose }
  const differentiatedNodes = walk(graph, facts, emit, grads)
  emit.scope = ''
  emit.hint = 'out'
  const gradients = new Map<string, string>()
  for (const name of new Set(wrt)) {
    const out = gradName(name)
    if (taken.has(out)) throw new GradientTargetError(`the gradient name '${out}' is already a forward value`)
    const g = grads.total(name) ?? emit.zeros(staticShape(types, name), types.get(name)?.dtype ?? 'float32')
    emit.op('Identity', [g], {}, out)
    gradients.set(name, out)
  }
  return assemble(graph, emit, { types, constants, seeds, gradients, differentiatedNodes })
}

/**
 * Reverse topological order: each node's rule turns its output gradients into input gradients.
 * Returns the names of the nodes whose rule ran.
 */
function walk(graph: Graph, facts: ForwardFacts, emit: GradEmitter, grads: GradientSums): Set<string> {
  const ran = new Set<string>()
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k]
    if (NON_DIFFERENTIABLE.has(node.opType)) continue
    const dys = node.outputs.map((o) => (o === '' ? undefined : grads.total(o)))
    if (dys.every((d) => d === undefined) || !node.inputs.some((i) => facts.needsGrad.has(i))) continue
    const rule = RULES_BY_OP.get(node.opType)
    if (rule === undefined) throw new NoGradientRuleError(node)
    emit.scope = node.scope
    emit.hint = node.name
    const dxs = rule.grad(gradContext(node, rule, facts, emit, dys))
    ran.add(node.name)
    node.inputs.forEach((input, i) => {
      const dx = dxs[i]
      if (dx !== undefined && facts.needsGrad.has(input)) grads.add(input, dx)
    })
  }
  return ran
}

/** Gradient contributions per value; a value used several times gets their sum. */
class GradientSums {
  private readonly parts = new Map<string, string[]>()
  private readonly emit: GradEmitter
  constructor(emit: GradEmitter) {
    this.emit = emit
  }
  add(value: string, g: string): void {
    this.parts.set(value, [...(this.parts.get(value) ?? []), g])
  }
  total(value: string): string | undefined {
    const parts = this.parts.get(value)
    if (parts === undefined) return undefined
    if (parts.length > 1) this.parts.set(value, [this.emit.addAll(parts)])
    return this.parts.get(value)?.[0]
  }
}

/** The float values that depend on `wrt` through differentiable ops. */
function dependents(graph: Graph, wrt: string[], types: Map<string, ValueInfo>): Set<string> {
  const set = new Set(wrt)
  for (const node of graph.nodes) {
    if (NON_DIFFERENTIABLE.has(node.opType) || !node.inputs.some((i) => set.has(i))) continue
    for (const o of node.outputs) {
      const t = types.get(o)
      if (o !== '' && t && isFloat(t.dtype)) set.add(o)
    }
  }
  return set
}

interface Parts {
  types: Map<string, ValueInfo>
  constants: Map<string, Tensor>
  seeds: Map<string, string>
  gradients: Map<string, string>
  differentiatedNodes: Set<string>
}

/** Prunes dead nodes and wraps the emitted nodes into a graph whose inputs are what they read. */
function assemble(forward: Graph, emit: GradEmitter, parts: Parts): Backward {
  const nodes = withFoldedCopies(
    forward,
    emit,
    parts.constants,
    live(emit.nodes, new Set(parts.gradients.values())),
  )
  const produced = new Set(nodes.flatMap((n) => n.outputs))
  const seedNames = new Set(parts.seeds.values())
  const initializers = new Map<string, Tensor>()
  const saved: string[] = []
  const seen = new Set<string>()
  for (const n of nodes) {
    for (const i of n.inputs) {
      if (i === '' || produced.has(i) || seen.has(i)) continue
      seen.add(i)
      const emitted = emit.initializers.get(i)
      const constant = emitted ?? parts.constants.get(i)
      if (constant !== undefined) initializers.set(i, constant)
      else if (!seedNames.has(i)) saved.push(i)
    }
  }
  const info = (name: string, as = name): ValueInfo => ({ ...(parts.types.get(name) as ValueInfo), name: as })
  const graph: Graph = {
    name: `${forward.name}.backward`,
    nodes,
    inputs: [...saved.map((s) => info(s)), ...[...parts.seeds].map(([v, seed]) => info(v, seed))],
    outputs: [...parts.gradients].map(([v, g]) => info(v, g)),
    initializers,
    parameters: new Set(),
    valueInfo: new Map(),
    opset: forward.opset,
  }
  const { seeds, gradients, types, differentiatedNodes } = parts
  return { graph, saved, seeds, gradients, types, differentiatedNodes }
}

/**
 * A forward node's output that folds to a constant (shape arithmetic, a causal mask) is read by the
 * backward as an initializer under a fresh name: were it kept under the forward name, any graph that
 * runs the forward nodes beside the backward's (a training graph, a recomputing or fused stage)
 * would define that name twice, which ONNX forbids ("Duplicate definition").
 */
function withFoldedCopies(
  forward: Graph,
  emit: GradEmitter,
  constants: Map<string, Tensor>,
  nodes: Node[],
): Node[] {
  const byForwardNode = new Set(forward.nodes.flatMap((n) => n.outputs))
  const copies = new Map<string, string>()
  const copyOf = (name: string): string => {
    if (!byForwardNode.has(name) || emit.initializers.has(name)) return name
    const value = constants.get(name)
    if (value === undefined) return name
    let copy = copies.get(name)
    if (copy === undefined) {
      emit.hint = 'folded'
      copy = emit.fresh(name)
      copies.set(name, copy)
      emit.initializers.set(copy, value)
    }
    return copy
  }
  return nodes.map((n) => {
    const inputs = n.inputs.map((i) => (i === '' ? i : copyOf(i)))
    return inputs.every((i, k) => i === n.inputs[k]) ? n : { ...n, inputs }
  })
}

/** The nodes some of `outputs` depend on, in their original order. */
function live(nodes: Node[], outputs: Set<string>): Node[] {
  const needed = new Set(outputs)
  const keep: Node[] = []
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k]
    if (!n.outputs.some((o) => needed.has(o))) continue
    keep.push(n)
    for (const i of n.inputs) needed.add(i)
  }
  return keep.reverse()
}
