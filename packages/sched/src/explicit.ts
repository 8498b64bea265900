/**
 * Stages placed by hand, a job's explicit stage → peer map: each stage names one peer and the scope
 * prefixes it runs, as core's partitionGraph reads them (nodes no scope claims — glue, the loss —
 * join their producers). Checked before anything is costed, each error naming the stage: every
 * peer is one of the job's and runs one stage, every scope claims a node, and no stage reads what a
 * later stage computes. Two stages whose scopes claim one node are core's PartitionError (it names
 * the node and both stages).
 */
import { assignStages, type Graph, scopeMatches } from '@atoll/core'
import { type BaselineOptions, planStages } from './baselines.ts'
import { StageOrderError, UnknownReferenceError, UnmatchedScopeError } from './errors.ts'
import { layerOf, linearize } from './graph.ts'
import type { Plan } from './types.ts'
import { type PlanInput, parsePlanInput } from './validate.ts'

/** One stage of a hand-made placement: the peer that runs it and the scope prefixes it holds. */
export interface PlacedStage {
  peer: string
  scopes: string[]
}

/** Peers listed in a message before the rest are counted. */
const LISTED_PEERS = 8

/**
 * The plan of hand-placed stages over `graph`, whose nodes `input.ops` costs (opCostsOfGraph):
 * stage i holds the nodes its scopes claim, on its peer; every edge dense.
 */
export function planExplicit(
  graph: Graph,
  input: PlanInput,
  stages: readonly PlacedStage[],
  options: BaselineOptions = {},
): Plan {
  const parsed = parsePlanInput(input)
  checkPeers(
    stages,
    parsed.peers.map((p) => p.id),
  )
  checkScopes(graph, stages)
  const assignment = assignStages(
    graph,
    stages.map((s) => ({ scopes: s.scopes })),
  )
  const stageOf = (id: string) => {
    const stage = assignment.get(id)
    if (stage === undefined) throw new UnknownReferenceError(`op '${id}' is no node of the graph`)
    return stage
  }
  const linear = linearize(parsed.ops, options)
  for (const op of linear.ops) {
    for (const from of op.inputs) {
      if (stageOf(from) <= stageOf(op.id)) continue
      throw new StageOrderError(
        `placement.stages[${stageOf(op.id)}]: node '${op.id}' reads the output of '${from}', which stage ${stageOf(from)} computes; a stage reads only from stages before it`,
      )
    }
  }
  // Stages follow the graph, so ordering by stage keeps a topological order: the linear order's.
  const ordered = linear.ops
    .map((op, position) => ({ op, position, stage: stageOf(op.id) }))
    .sort((a, b) => a.stage - b.stage || a.position - b.position)
  const bounds = [0]
  for (let s = 0; s < stages.length; s++) bounds.push(bounds[s] + ordered.filter((o) => o.stage === s).length)
  const graphInOrder = linearize(
    ordered.map((o) => o.op),
    options,
  )
  return planStages(parsed, graphInOrder, 'explicit', (s) => stages[s].peer, bounds, options)
}

function checkPeers(stages: readonly PlacedStage[], peers: readonly string[]): void {
  const known = new Set(peers)
  const runs = new Map<string, number>()
  stages.forEach((stage, s) => {
    if (!known.has(stage.peer)) {
      const listed = peers.slice(0, LISTED_PEERS).join(', ')
      const more = peers.length > LISTED_PEERS ? ` and ${peers.length - LISTED_PEERS} more` : ''
      throw new UnknownReferenceError(
        `placement.stages[${s}].peer: '${stage.peer}' is not a peer of the job (${listed}${more})`,
      )
    }
    const other = runs.get(stage.peer)
    if (other !== undefined)
      throw new UnknownReferenceError(
        `placement.stages[${s}].peer: '${stage.peer}' already runs stage ${other}; a peer runs one stage`,
      )
    runs.set(stage.peer, s)
  })
}

function checkScopes(graph: Graph, stages: readonly PlacedStage[]): void {
  stages.forEach((stage, s) => {
    stage.scopes.forEach((scope, k) => {
      if (graph.nodes.some((node) => scopeMatches(node.scope, scope))) return
      const layers = [...new Set(graph.nodes.map((node) => layerOf(node.scope)))].join(', ')
      throw new UnmatchedScopeError(
        `placement.stages[${s}].scopes[${k}]: '${scope}' matches no node of the graph (its layers: ${layers})`,
      )
    })
  })
}
