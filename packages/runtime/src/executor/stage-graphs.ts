import { buildBackward, type Graph, type Tensor, type ValueInfo } from '@atoll/core'
import { SessionError } from '../errors.ts'

/** Where backward gets the forward's intermediate values: kept from the forward run, or recomputed. */
export type ActivationPolicy = 'stash' | 'recompute'

/** A stage's two graphs, parameters turned into inputs so that sessions read the live weights. */
export interface StageGraphs {
  forward: Graph
  backward: Graph
  /** forward values backward reads that are kept from the forward run (stash only; may include stage outputs) */
  stashed: string[]
  /** backward inputs that are forward-side values (graph inputs, stashed activations, parameters) */
  backwardReads: string[]
  /** seed inputs of backward: forward output → `grad.<output>` */
  seeds: Map<string, string>
  /** parameter or boundary input → its gradient output */
  gradients: Map<string, string>
}

export interface StageGraphOptions {
  /** values whose incoming gradient drives backward: the loss, or a stage's boundary outputs */
  differentiate: readonly string[]
  /** boundary inputs whose gradients go upstream */
  gradInputs?: readonly string[]
  bindings: Readonly<Record<string, number>>
  policy: ActivationPolicy
}

export function buildStageGraphs(stage: Graph, options: StageGraphOptions): StageGraphs {
  const bw = buildBackward(stage, options.differentiate, {
    bindings: options.bindings,
    inputs: options.gradInputs,
  })
  const seedNames = new Set(bw.seeds.values())
  const bound = (v: ValueInfo): ValueInfo => ({ ...v, shape: bw.types.get(v.name)?.shape ?? v.shape })
  const params = [...stage.parameters]
  const paramInputs = params.map((p) => paramInfo(stage, p))
  const constants = withoutParameters(stage.initializers, stage.parameters)
  const external = new Set([...stage.inputs.map((i) => i.name), ...params])
  const stashed =
    options.policy === 'stash' ? bw.saved.filter((s) => !external.has(s) && !constants.has(s)) : []
  const ownOutputs = new Set(stage.outputs.map((o) => o.name))
  const extraOutputs = stashed.filter((s) => !ownOutputs.has(s))
  const forward: Graph = {
    ...stage,
    name: `${stage.name}.forward`,
    inputs: [...stage.inputs.map(bound), ...paramInputs],
    outputs: [...stage.outputs.map(bound), ...extraOutputs.map((s) => bound({ name: s, dtype: 'float32' }))],
    initializers: constants,
    parameters: new Set(),
    valueInfo: new Map(),
  }
  for (const s of extraOutputs) fixDtype(forward, s, bw.types.get(s))
  const backward =
    options.policy === 'stash'
      ? stashBackward(bw.graph, constants)
      : recomputeBackward(stage, bw.graph, constants, [...stage.inputs.map(bound), ...paramInputs], seedNames)
  const backwardReads = backward.inputs.map((i) => i.name).filter((n) => !seedNames.has(n))
  return { forward, backward, stashed, backwardReads, seeds: bw.seeds, gradients: bw.gradients }
}

function stashBackward(bwGraph: Graph, constants: Map<string, Tensor>): Graph {
  // constants the backward reads (e.g. shape tensors) travel as its own initializers, not as feeds
  const inputs = bwGraph.inputs.filter((i) => !constants.has(i.name))
  const initializers = new Map(bwGraph.initializers)
  for (const i of bwGraph.inputs) if (constants.has(i.name)) initializers.set(i.name, constants.get(i.name)!)
  return { ...bwGraph, inputs, initializers, valueInfo: new Map() }
}

/** Forward nodes re-run inside the backward session: nothing is stashed but the stage's inputs. */
function recomputeBackward(
  stage: Graph,
  bwGraph: Graph,
  constants: Map<string, Tensor>,
  forwardInputs: ValueInfo[],
  seedNames: Set<string>,
): Graph {
  const seedInputs = bwGraph.inputs.filter((i) => seedNames.has(i.name))
  return {
    ...bwGraph,
    name: `${stage.name}.recompute-backward`,
    nodes: [...stage.nodes, ...bwGraph.nodes],
    inputs: [...forwardInputs, ...seedInputs],
    initializers: unshadowed(new Map([...constants, ...bwGraph.initializers]), stage),
    valueInfo: new Map(),
  }
}

function paramInfo(stage: Graph, name: string): ValueInfo {
  const t = stage.initializers.get(name)
  if (t === undefined)
    throw new SessionError(`parameter '${name}' has no initial value in graph '${stage.name}'`)
  if (t.dtype !== 'float32')
    throw new SessionError(`parameter '${name}' is ${t.dtype}; training needs float32`)
  return { name, dtype: t.dtype, shape: [...t.shape] }
}

function withoutParameters(initializers: Map<string, Tensor>, params: Set<string>): Map<string, Tensor> {
  return new Map([...initializers].filter(([k]) => !params.has(k)))
}

function fixDtype(g: Graph, name: string, info: ValueInfo | undefined): void {
  const out = g.outputs.find((o) => o.name === name)
  if (out && info) out.dtype = info.dtype
}

/**
 * Backward graphs carry constants folded from forward values (shape arithmetic) as initializers;
 * when the forward nodes run in the same graph they produce those values themselves, and ONNX
 * forbids a name defined twice.
 */
export function unshadowed(initializers: Map<string, Tensor>, forward: Graph): Map<string, Tensor> {
  const produced = new Set(forward.nodes.flatMap((n) => n.outputs))
  return new Map([...initializers].filter(([k]) => !produced.has(k)))
}

/** A stage's forward and backward as one graph: the seeds are inputs, the gradients outputs. */
export interface FusedStageGraph {
  graph: Graph
  seeds: Map<string, string>
  gradients: Map<string, string>
}

/**
 * Forward and backward in one graph, for the stage that computes the loss: its backward always
 * follows its own forward and its seed (1/M) is known up front, so nothing needs stashing and
 * onnxruntime can plan both directions together.
 */
export function buildFusedGraph(stage: Graph, options: Omit<StageGraphOptions, 'policy'>): FusedStageGraph {
  const bw = buildBackward(stage, options.differentiate, {
    bindings: options.bindings,
    inputs: options.gradInputs,
  })
  const bound = (v: ValueInfo): ValueInfo => ({ ...v, shape: bw.types.get(v.name)?.shape ?? v.shape })
  const params = [...stage.parameters]
  const seedNames = new Set(bw.seeds.values())
  const constants = withoutParameters(stage.initializers, stage.parameters)
  const graph: Graph = {
    ...stage,
    name: `${stage.name}.fused`,
    nodes: [...stage.nodes, ...bw.graph.nodes],
    inputs: [
      ...stage.inputs.map(bound),
      ...params.map((p) => paramInfo(stage, p)),
      ...bw.graph.inputs.filter((i) => seedNames.has(i.name)),
    ],
    outputs: [...stage.outputs.map(bound), ...bw.graph.outputs],
    initializers: unshadowed(new Map([...constants, ...bw.graph.initializers]), stage),
    parameters: new Set(),
    valueInfo: new Map(),
  }
  return { graph, seeds: bw.seeds, gradients: bw.gradients }
}
