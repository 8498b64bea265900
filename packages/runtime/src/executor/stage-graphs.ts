import {
  type Backward,
  buildBackward,
  decomposeTrainingOps,
  type Graph,
  planStash,
  type StashPlan,
  type StateUpdate,
  stateUpdates,
  type Tensor,
  type ValueInfo,
} from '@atoll/core'
import { SessionError } from '../errors.ts'

/**
 * Where backward gets the forward's intermediate values: `selective` keeps the fewest bytes and
 * recomputes cheap ops (elementwise, data movement) from them; `stash` keeps every value backward
 * reads; `recompute` keeps nothing and runs the whole forward again inside backward.
 */
export type ActivationPolicy = 'selective' | 'stash' | 'recompute'

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
  const ownOutputs = new Set(stage.outputs.map((o) => o.name))
  const { backward, stashed } = backwardOf(options.policy, {
    stage,
    bw,
    constants,
    forwardInputs,
    ownOutputs,
  })
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

interface BackwardParts {
  stage: Graph
  bw: Backward
  constants: Map<string, Tensor>
  forwardInputs: ValueInfo[]
  ownOutputs: Set<string>
}

/** The backward graph a policy gives, and the forward values it keeps for it (stage outputs included). */
function backwardOf(policy: ActivationPolicy, parts: BackwardParts): { backward: Graph; stashed: string[] } {
  const { stage, bw, constants, forwardInputs, ownOutputs } = parts
  const external = new Set(forwardInputs.map((i) => i.name))
  if (policy === 'stash') {
    const stashed = bw.saved.filter((s) => !external.has(s) && !constants.has(s))
    return { backward: stashBackward(bw.graph, constants), stashed }
  }
  if (policy === 'recompute') {
    // a recomputed Dropout would draw another mask than the one its gradient must reuse
    const dropout = stage.nodes.find((n) => n.opType === 'Dropout')
    if (dropout !== undefined)
      throw new SessionError(`stage '${stage.name}': Dropout node '${dropout.name}' cannot be recomputed`)
    const seeds = new Set(bw.seeds.values())
    return { backward: recomputeBackward(stage, bw.graph, constants, forwardInputs, seeds), stashed: [] }
  }
  const free = new Set([...external, ...constants.keys(), ...ownOutputs])
  const plan = planStash(stage, bw.saved, { free, types: bw.types })
  const backward = selectiveBackward(stage, bw, plan, constants, forwardInputs)
  const outputsRead = backward.inputs.map((i) => i.name).filter((n) => ownOutputs.has(n))
  return { backward, stashed: [...plan.stash, ...outputsRead] }
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

/**
 * The backward graph behind the forward nodes that rebuild what the plan did not keep: it reads
 * the kept values, the seeds, and whatever forward inputs (parameters, boundary inputs) either
 * part uses; constants travel as its own initializers.
 */
function selectiveBackward(
  stage: Graph,
  bw: Backward,
  plan: StashPlan,
  constants: Map<string, Tensor>,
  forwardInputs: ValueInfo[],
): Graph {
  const nodes = [...plan.recompute, ...bw.graph.nodes]
  const produced = new Set(nodes.flatMap((n) => n.outputs))
  const initializers = new Map(bw.graph.initializers)
  const inputs: ValueInfo[] = []
  const seen = new Set<string>()
  const byName = new Map(forwardInputs.map((i) => [i.name, i]))
  const read = [...bw.graph.inputs.map((i) => i.name), ...nodes.flatMap((n) => n.inputs)]
  for (const name of read) {
    if (name === '' || produced.has(name) || seen.has(name) || initializers.has(name)) continue
    seen.add(name)
    const constant = constants.get(name)
    if (constant !== undefined) initializers.set(name, constant)
    else inputs.push(byName.get(name) ?? bw.graph.inputs.find((i) => i.name === name) ?? typed(bw, name))
  }
  return {
    ...bw.graph,
    name: `${stage.name}.selective-backward`,
    nodes,
    inputs,
    initializers,
    valueInfo: new Map(),
  }
}

function typed(bw: Backward, name: string): ValueInfo {
  const t = bw.types.get(name)
  if (t === undefined) throw new SessionError(`backward reads '${name}', whose type is unknown`)
  return { ...t, name }
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
