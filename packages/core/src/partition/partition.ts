/**
 * partitionGraph: cuts the OP-DAG into pipeline stages. Each stage gets a forward graph (boundary
 * activations in → out, plus what its backward reads unless recomputing) and a backward graph
 * (boundary gradients in → boundary gradients out and its parameter gradients). Running the stages
 * forward in order and backward in reverse order, summing the gradients of a value that several
 * stages read and of a parameter that several stages read (tied weights), reproduces the whole
 * graph's loss and gradients.
 */
import { decomposeTrainingOps } from '../autodiff/decompose.ts'
import { stateUpdates } from '../autodiff/state.ts'
import type { Graph, ValueInfo } from '../graph/types.ts'
import { inferTypes } from '../ops/infer.ts'
import { assignStages, type StageSpec } from './assign.ts'
import { PartitionError } from './errors.ts'
import { gradientCarriers } from './flow.ts'
import { buildStage, type Stage } from './stage.ts'

export interface PartitionOptions {
  /** the scalar loss value; its stage gets the seed 1 */
  loss: string
  stages: readonly StageSpec[]
  /** recompute a stage's activations in its backward instead of saving them; default false */
  recompute?: boolean
  /** sizes of symbolic dims (autodiff needs static shapes) */
  bindings?: Readonly<Record<string, number>>
  /** rewrite training BatchNorm into primitives first (see decomposeTrainingOps); default true */
  decompose?: boolean
  /** stage backwards use ConvTranspose (see BackwardOptions.convTranspose); default true */
  convTranspose?: boolean
}

/** A value crossing from one stage to a later one; `gradient` when its gradient flows back. */
export interface BoundaryEdge {
  value: string
  from: number
  to: number
  dtype: ValueInfo['dtype']
  shape: number[]
  gradient: boolean
}

export interface Partition {
  stages: Stage[]
  edges: BoundaryEdge[]
  /** parameter → the stages that read it; more than one for tied weights (their gradients add) */
  parameterStages: Map<string, number[]>
  loss: string
}

export function partitionGraph(source: Graph, options: PartitionOptions): Partition {
  // found before decomposition: afterwards the updates are plain Mul/Add nodes
  const state = stateUpdates(source)
  const graph = options.decompose === false ? source : decomposeTrainingOps(source, options.bindings)
  const { types } = inferTypes(graph, { bindings: options.bindings })
  if (!types.has(options.loss)) throw new PartitionError(`loss '${options.loss}' is not a value of the graph`)
  const assignment = assignStages(graph, options.stages)
  const count = options.stages.length
  const producer = new Map<string, number>()
  for (const n of graph.nodes)
    for (const o of n.outputs) if (o !== '') producer.set(o, assignment.get(n.name) as number)
  const graphInputs = new Set(graph.inputs.map((v) => v.name))
  const readers = new Map<string, Set<number>>()
  for (const n of graph.nodes) {
    const s = assignment.get(n.name) as number
    for (const i of n.inputs) if (i !== '') readers.set(i, (readers.get(i) ?? new Set()).add(s))
  }
  const carriers = gradientCarriers(graph, options.loss, types)
  const edges: BoundaryEdge[] = []
  for (const [value, from] of producer) {
    for (const to of readers.get(value) ?? []) {
      if (to === from) continue
      if (to < from) throw new PartitionError(`value '${value}' flows from stage ${from} back to stage ${to}`)
      const t = types.get(value) as ValueInfo
      edges.push({
        value,
        from,
        to,
        dtype: t.dtype,
        shape: t.shape as number[],
        gradient: carriers.has(value),
      })
    }
  }
  const outputs = new Set([options.loss, ...graph.outputs.map((o) => o.name)])
  const stages: Stage[] = []
  for (let s = 0; s < count; s++) {
    const nodes = graph.nodes.filter((n) => assignment.get(n.name) === s)
    if (nodes.length === 0) throw new PartitionError(`stage ${s} has no nodes`)
    const reads = unique(nodes.flatMap((n) => n.inputs))
    const produced = unique(nodes.flatMap((n) => n.outputs).filter((o) => o !== ''))
    const readLater = (v: string) => [...(readers.get(v) ?? [])].some((r) => r !== s)
    stages.push(
      buildStage({
        index: s,
        name: options.stages[s].name ?? `stage${s}`,
        graph,
        nodes,
        types,
        activationsIn: reads.filter((v) => producer.has(v) && producer.get(v) !== s),
        graphInputs: reads.filter((v) => graphInputs.has(v)),
        activationsOut: produced.filter((v) => outputs.has(v) || readLater(v)),
        state: state.filter((u) => produced.includes(u.update)),
        gradientsIn: produced.filter((v) => carriers.has(v) && (v === options.loss || readLater(v))),
        carriers,
        recompute: options.recompute ?? false,
        convTranspose: options.convTranspose ?? true,
      }),
    )
  }
  const parameterStages = new Map<string, number[]>()
  for (const stage of stages) {
    for (const p of stage.parameters) parameterStages.set(p, [...(parameterStages.get(p) ?? []), stage.index])
  }
  return { stages, edges, parameterStages, loss: options.loss }
}

const unique = (names: string[]) => [...new Set(names.filter((n) => n !== ''))]
