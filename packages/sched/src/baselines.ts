import { seededRandom } from '@atoll/core'
import { type ClusterOptions, clusterPeers, linkMatrix } from './cluster.ts'
import { hostsOf, predictStep } from './estimator.ts'
import type { EstimatorOptions } from './estimator.ts'
import { type LinearGraph, linearize } from './graph.ts'
import { context, costStages, type StageSpec } from './stages.ts'
import type { Plan } from './types.ts'
import { type ParsedPlanInput, type PlanInput, parsePlanInput } from './validate.ts'

/** What the baselines take: the estimator's options, and where fences stand (for crossesFence). */
export type BaselineOptions = EstimatorOptions & ClusterOptions

/**
 * The `even` baseline: equal numbers of layers per peer, in peer-list order, one peer per stage,
 * every edge dense over the direct link between consecutive peers. With fewer layers than peers
 * the first ones each take one layer and the rest idle.
 */
export function planEven(input: PlanInput, options: BaselineOptions = {}): Plan {
  const parsed = parsePlanInput(input)
  const graph = linearize(parsed.ops, options)
  const starts = layerStarts(graph.layers)
  const P = Math.min(parsed.peers.length, starts.length)
  const bounds = Array.from({ length: P + 1 }, (_, i) =>
    i === P ? graph.ops.length : starts[Math.floor((i * starts.length) / P)],
  )
  return planStages(parsed, graph, 'even', (i) => parsed.peers[i].id, bounds, options)
}

/** The `random` baseline: as many stages, at random layer boundaries, on randomly drawn peers (seeded). */
export function planRandom(input: PlanInput, options: BaselineOptions & { seed?: number } = {}): Plan {
  const parsed = parsePlanInput(input)
  const graph = linearize(parsed.ops, options)
  const starts = layerStarts(graph.layers)
  const P = Math.min(parsed.peers.length, starts.length)
  const next = seededRandom(options.seed ?? 1)
  const cuts = shuffle(starts.slice(1), next)
    .slice(0, P - 1)
    .sort((a, b) => a - b)
  const peers = shuffle(
    parsed.peers.map((p) => p.id),
    next,
  )
  return planStages(parsed, graph, 'random', (i) => peers[i], [0, ...cuts, graph.ops.length], options)
}

/**
 * A plan of given stages, one peer each: ops bounds[i]…bounds[i+1]−1 of the linear order on peer
 * peerOf(i), every edge dense. Each stage is marked with its peer's cluster, so that an edge over
 * a fence says so and can be compressed like OP-Fence's.
 */
export function planStages(
  input: ParsedPlanInput,
  graph: LinearGraph,
  algorithm: 'even' | 'random' | 'explicit',
  peerOf: (stage: number) => string,
  bounds: readonly number[],
  options: BaselineOptions = {},
): Plan {
  const { microBatches } = input
  const matrix = linkMatrix(input.peers, input.links)
  const clusters = clusterPeers(matrix, options)
  const clusterOf = new Map(clusters.flatMap((c, k) => c.peers.map((id) => [id, k])))
  const ctx = context(graph, matrix, input.peers, microBatches, undefined, options.overheads)
  const specs: StageSpec[] = bounds.slice(1).map((end, i) => {
    const peer = peerOf(i)
    return { start: bounds[i], end, peers: [peer], cluster: clusterOf.get(peer)! }
  })
  const { stages, edges, tied } = costStages(ctx, specs)
  return {
    algorithm,
    microBatches,
    clusters,
    stages,
    edges,
    sync: { algorithm: 'ssgd', period: 1 },
    tied,
    predicted: predictStep(stages, edges, microBatches, tied, options.overheads, hostsOf(input.peers)),
  }
}

/** Positions in the linear order where a new layer begins (a layer split by the order counts twice). */
function layerStarts(layers: readonly string[]): number[] {
  return layers.flatMap((l, i) => (i === 0 || l !== layers[i - 1] ? [i] : []))
}

function shuffle<T>(items: T[], next: () => number): T[] {
  const a = [...items]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[a[i], a[j]] = [a[j], a[i]]
  }
  return a
}
