/** The forward and backward graphs of one stage. */
import { type Backward, buildBackward } from '../autodiff/backward.ts'
import type { StateUpdate } from '../autodiff/state.ts'
import type { Graph, Node, ValueInfo } from '../graph/types.ts'
import type { Tensor } from '../tensor.ts'
import { PartitionError } from './errors.ts'

export interface Stage {
  index: number
  name: string
  /** names of the forward nodes the stage runs */
  nodes: string[]
  /** trainable parameters the stage reads (a tied parameter is listed by every stage that reads it) */
  parameters: string[]
  /** inputs: `activationsIn` then graph inputs read here; outputs: `activationsOut`, `saved`, then the `state` updates */
  forward: Graph
  /** inputs: `backwardInputs` then `grad.<v>` for v in `gradientsIn`; outputs: `grad.<param>`, then `grad.<v>` for `gradientsOut` */
  backward: Graph
  /** values produced by earlier stages that this stage reads */
  activationsIn: string[]
  /** graph inputs this stage reads (data, targets) */
  graphInputs: string[]
  /** values produced here that later stages read, or that are graph outputs (the loss) */
  activationsOut: string[]
  /** extra forward outputs kept for the backward (empty when recomputing) */
  saved: string[]
  /** forward-side values the backward graph reads: saved activations, stage inputs, parameters */
  backwardInputs: string[]
  /** values whose gradient reaches this stage's backward (from later stages, or the loss seed) */
  gradientsIn: string[]
  /** boundary inputs whose gradient this stage's backward sends to earlier stages */
  gradientsOut: string[]
  /**
   * running statistics this stage's forward updates (initializers of its forward graph): a runner
   * writes each `update` output back into its `state` after every forward
   */
  state: StateUpdate[]
}

export interface StageParts {
  index: number
  name: string
  graph: Graph
  nodes: Node[]
  types: ReadonlyMap<string, ValueInfo>
  activationsIn: string[]
  graphInputs: string[]
  activationsOut: string[]
  /** activationsOut that later stages differentiate through, and the loss */
  gradientsIn: string[]
  carriers: ReadonlySet<string>
  recompute: boolean
  convTranspose: boolean
  state: StateUpdate[]
}

export function buildStage(parts: StageParts): Stage {
  const info = (name: string): ValueInfo => ({ ...(parts.types.get(name) as ValueInfo), name })
  const read = new Set(parts.nodes.flatMap((n) => n.inputs))
  const initializers = new Map([...parts.graph.initializers].filter(([name]) => read.has(name)))
  const parameters = [...initializers.keys()].filter((n) => parts.graph.parameters.has(n))
  const forward: Graph = {
    name: `${parts.graph.name}.${parts.name}.forward`,
    nodes: parts.nodes,
    inputs: [...parts.activationsIn, ...parts.graphInputs].map(info),
    outputs: parts.activationsOut.map(info),
    initializers,
    parameters: new Set(parameters),
    valueInfo: new Map(),
    opset: parts.graph.opset,
  }
  const gradientsIn = parts.gradientsIn
  const gradientsOut = parts.activationsIn.filter((v) => parts.carriers.has(v))
  const bw = buildBackward(forward, gradientsIn, {
    inputs: gradientsOut,
    parameters,
    convTranspose: parts.convTranspose,
  })
  const producedHere = new Set(parts.nodes.flatMap((n) => n.outputs))
  const needed = bw.saved.filter((v) => producedHere.has(v))
  const base = {
    index: parts.index,
    name: parts.name,
    nodes: parts.nodes.map((n) => n.name),
    parameters,
    activationsIn: parts.activationsIn,
    graphInputs: parts.graphInputs,
    activationsOut: parts.activationsOut,
    gradientsIn,
    gradientsOut,
    state: parts.state,
  }
  const updates = parts.state.map((u) => ({ ...info(u.state), name: u.update }))
  if (!parts.recompute) {
    const saved = needed.filter((v) => !parts.activationsOut.includes(v))
    forward.outputs.push(...saved.map(info), ...updates)
    return { ...base, forward, backward: bw.graph, saved, backwardInputs: bw.saved }
  }
  forward.outputs.push(...updates)
  const recomputed = recomputation(parts.nodes, needed, parts.name)
  const backward = withRecompute(bw, recomputed, forward, info)
  const seedNames = new Set(bw.seeds.values())
  const backwardInputs = backward.inputs.map((v) => v.name).filter((n) => !seedNames.has(n))
  return { ...base, forward, backward, saved: [], backwardInputs }
}

/** The forward nodes needed to recompute `values`, in order; Dropout cannot be redrawn identically. */
function recomputation(nodes: Node[], values: string[], stage: string): Node[] {
  const want = new Set(values)
  const keep: Node[] = []
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k]
    if (!n.outputs.some((o) => want.has(o))) continue
    if (n.opType === 'Dropout')
      throw new PartitionError(`stage '${stage}': Dropout node '${n.name}' cannot be recomputed`)
    keep.push(n)
    for (const i of n.inputs) want.add(i)
  }
  return keep.reverse()
}

/** The backward graph with the recomputing forward nodes in front; its inputs become stage inputs. */
function withRecompute(
  bw: Backward,
  recomputed: Node[],
  forward: Graph,
  info: (n: string) => ValueInfo,
): Graph {
  const nodes = [...recomputed, ...bw.graph.nodes]
  const produced = new Set(nodes.flatMap((n) => n.outputs))
  const seeds = new Set(bw.seeds.values())
  // the backward's initializers never reuse a forward value's name (buildBackward copies folded
  // values under fresh names), so the recomputed nodes cannot collide with them
  const initializers = new Map<string, Tensor>(bw.graph.initializers)
  const inputs: string[] = []
  for (const name of new Set(nodes.flatMap((n) => n.inputs))) {
    if (name === '' || produced.has(name) || seeds.has(name) || initializers.has(name)) continue
    const init = forward.initializers.get(name)
    if (init !== undefined && !forward.parameters.has(name)) initializers.set(name, init)
    else inputs.push(name)
  }
  const seedInputs = bw.graph.inputs.filter((v) => seeds.has(v.name))
  return { ...bw.graph, nodes, inputs: [...inputs.map(info), ...seedInputs], initializers }
}
