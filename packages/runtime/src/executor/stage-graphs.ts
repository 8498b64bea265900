import {
  buildBackward,
  decomposeTrainingOps,
  type Graph,
  type StateUpdate,
  stateUpdates,
  type Tensor,
  type ValueInfo,
} from '@atoll/core'
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
  /** running statistics: forward inputs fed from the live state, updated values among its outputs */
  state: StateUpdate[]
}

export interface StageGraphOptions {
  /** values whose incoming gradient drives backward: the loss, or a stage's boundary outputs */
  differentiate: readonly string[]
  /** boundary inputs whose gradients go upstream */
  gradInputs?: readonly string[]
  bindings: Readonly<Record<string, number>>
  policy: ActivationPolicy
  /**
   * the running statistics this stage updates; default: found from its training BatchNorms (give
   * them for a stage whose BatchNorms core's partition already decomposed)
   */
  state?: readonly StateUpdate[]
}

export function buildStageGraphs(source: Graph, options: StageGraphOptions): StageGraphs {
  const { stage, state, stateInputs } = prepare(source, options.bindings, options.state)
  const bw = buildBackward(stage, options.differentiate, {
    bindings: options.bindings,
    inputs: options.gradInputs,
  })
  const seedNames = new Set(bw.seeds.values())
  const bound = (v: ValueInfo): ValueInfo => ({ ...v, shape: bw.types.get(v.name)?.shape ?? v.shape })
  const params = [...stage.parameters]
  const forwardInputs = [
    ...stage.inputs.map(bound),
    ...params.map((p) => paramInfo(stage, p)),
    ...stateInputs,
  ]
  const constants = liveConstants(stage, state)
  const external = new Set(forwardInputs.map((i) => i.name))
  const stashed =
    options.policy === 'stash' ? bw.saved.filter((s) => !external.has(s) && !constants.has(s)) : []
  const ownOutputs = new Set(stage.outputs.map((o) => o.name))
  const extraOutputs = stashed.filter((s) => !ownOutputs.has(s))
  const forward: Graph = {
    ...stage,
    name: `${stage.name}.forward`,
    inputs: forwardInputs,
    outputs: [
      ...stage.outputs.map(bound),
      ...extraOutputs.map((s) => bound({ name: s, dtype: 'float32' })),
      ...updateOutputs(stateInputs, state),
    ],
    initializers: constants,
    parameters: new Set(),
    valueInfo: new Map(),
  }
  for (const s of extraOutputs) fixDtype(forward, s, bw.types.get(s))
  // a recomputed Dropout would draw another mask than the one its gradient must reuse
  const dropout = stage.nodes.find((n) => n.opType === 'Dropout')
  if (options.policy === 'recompute' && dropout !== undefined)
    throw new SessionError(`stage '${stage.name}': Dropout node '${dropout.name}' cannot be recomputed`)
  const backward =
    options.policy === 'stash'
      ? stashBackward(bw.graph, constants)
      : recomputeBackward(stage, bw.graph, constants, forwardInputs, seedNames)
  const backwardReads = backward.inputs.map((i) => i.name).filter((n) => !seedNames.has(n))
  return { forward, backward, stashed, backwardReads, seeds: bw.seeds, gradients: bw.gradients, state }
}

/**
 * The stage as it is differentiated and run: training BatchNorm decomposed (onnxruntime's kernel
 * does not normalise with the batch statistics), its running statistics turned into inputs, so
 * that sessions read the live state and the executor can write the updated values back.
 */
function prepare(source: Graph, bindings: Readonly<Record<string, number>>, given?: readonly StateUpdate[]) {
  const state = [...(given ?? stateUpdates(source))]
  const stage = decomposeTrainingOps(source, bindings)
  const stateInputs = state.map(({ state: name }): ValueInfo => {
    const t = stage.initializers.get(name)
    if (t === undefined) throw new SessionError(`state '${name}' is not an initializer of '${source.name}'`)
    if (t.dtype !== 'float32') throw new SessionError(`state '${name}' is ${t.dtype}; training needs float32`)
    return { name, dtype: t.dtype, shape: [...t.shape] }
  })
  return { stage, state, stateInputs }
}

function updateOutputs(stateInputs: ValueInfo[], state: StateUpdate[]): ValueInfo[] {
  return state.map((u, i) => ({ ...stateInputs[i], name: u.update }))
}

/** Initializers baked into the sessions: neither parameters nor state, which are fed live. */
function liveConstants(stage: Graph, state: StateUpdate[]): Map<string, Tensor> {
  const fed = new Set([...stage.parameters, ...state.map((u) => u.state)])
  return new Map([...stage.initializers].filter(([k]) => !fed.has(k)))
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
    initializers: new Map([...constants, ...bwGraph.initializers]),
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

function fixDtype(g: Graph, name: string, info: ValueInfo | undefined): void {
  const out = g.outputs.find((o) => o.name === name)
  if (out && info) out.dtype = info.dtype
}

/** A stage's forward and backward as one graph: the seeds are inputs, the gradients outputs. */
export interface FusedStageGraph {
  graph: Graph
  seeds: Map<string, string>
  gradients: Map<string, string>
  state: StateUpdate[]
}

/**
 * Forward and backward in one graph, for the stage that computes the loss: its backward always
 * follows its own forward and its seed (1/M) is known up front, so nothing needs stashing and
 * onnxruntime can plan both directions together.
 */
export function buildFusedGraph(source: Graph, options: Omit<StageGraphOptions, 'policy'>): FusedStageGraph {
  const { stage, state, stateInputs } = prepare(source, options.bindings, options.state)
  const bw = buildBackward(stage, options.differentiate, {
    bindings: options.bindings,
    inputs: options.gradInputs,
  })
  const bound = (v: ValueInfo): ValueInfo => ({ ...v, shape: bw.types.get(v.name)?.shape ?? v.shape })
  const params = [...stage.parameters]
  const seedNames = new Set(bw.seeds.values())
  const graph: Graph = {
    ...stage,
    name: `${stage.name}.fused`,
    nodes: [...stage.nodes, ...bw.graph.nodes],
    inputs: [
      ...stage.inputs.map(bound),
      ...params.map((p) => paramInfo(stage, p)),
      ...stateInputs,
      ...bw.graph.inputs.filter((i) => seedNames.has(i.name)),
    ],
    outputs: [...stage.outputs.map(bound), ...bw.graph.outputs, ...updateOutputs(stateInputs, state)],
    initializers: new Map([...liveConstants(stage, state), ...bw.graph.initializers]),
    parameters: new Set(),
    valueInfo: new Map(),
  }
  return { graph, seeds: bw.seeds, gradients: bw.gradients, state }
}
