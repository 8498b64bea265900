/**
 * The hierarchical all-reduce: inside each cluster (members joined by fast links) every member sends
 * its tensor to the leader, which sums the cluster in member order; the leaders run the flat
 * all-reduce among themselves (cluster order), the only exchange over the slow links and the only
 * one compressed; each leader sends the result back to its cluster. Members get the leader's bits,
 * so the result is the same on every member; it differs from the flat sum only in the order of the
 * additions.
 */
import type { CollectiveRun } from './collective.ts'
import { declareFlat, type FlatWaits, runFlat, sumInOrder } from './flat.ts'
import { type Piece, piecesOf } from './geometry.ts'
import type { ReduceLayout } from './layout.ts'

export interface HierarchicalWaits {
  cluster: readonly number[]
  leader: number
  pieces: Piece[]
  /** at the leader: per piece, each cluster position's tensor (undefined at its own) */
  parts: (Promise<Float32Array> | undefined)[][]
  /** at the leader: the leaders' all-reduce */
  leaders: FlatWaits | undefined
  /** at a member: the result's pieces from its leader */
  result: Promise<Float32Array>[]
}

export function declareHierarchical(
  run: CollectiveRun,
  layout: ReduceLayout,
  length: number,
): HierarchicalWaits {
  const self = run.init.self
  const k = layout.clusters.findIndex((c) => c.includes(self))
  const cluster = layout.clusters[k]
  const leader = layout.leaders[k]
  const pieces = piecesOf(0, length, run.init.pieceElements)
  if (self !== leader) {
    const result = pieces.map((piece) => run.expect('hb', 0, piece, leader, 3, false))
    return { cluster, leader, pieces, parts: [], leaders: undefined, result }
  }
  const parts = pieces.map((piece) =>
    cluster.map((member) => (member === self ? undefined : run.expect('hr', 0, piece, member, 0, false))),
  )
  const leaders = declareFlat(run, layout.leaders, length, { reduce: 'lrs', gather: 'lag', depth: 1 })
  return { cluster, leader, pieces, parts, leaders, result: [] }
}

export async function runHierarchical(
  run: CollectiveRun,
  waits: HierarchicalWaits,
  input: Float32Array,
  output: Float32Array,
): Promise<void> {
  const { cluster, leader, pieces } = waits
  if (waits.leaders === undefined) {
    for (const piece of pieces) {
      const view = input.subarray(piece.start, piece.end)
      run.send(
        leader,
        'hr',
        0,
        piece.index,
        run.encode(view, { phase: 'hr', start: piece.start, gathered: false }, false),
      )
    }
    await Promise.all(waits.result.map(async (values, p) => output.set(await values, pieces[p].start)))
    return
  }
  const clusterSum = new Float32Array(input.length)
  await Promise.all(
    pieces.map(async (piece, p) => {
      const own = input.subarray(piece.start, piece.end)
      const parts = await Promise.all(waits.parts[p].map((v) => v ?? own))
      sumInOrder(parts, clusterSum.subarray(piece.start, piece.end))
    }),
  )
  await runFlat(run, waits.leaders, clusterSum, output)
  for (const piece of pieces) {
    const view = output.subarray(piece.start, piece.end)
    const encoded = run.encode(view, { phase: 'hb', start: piece.start, gathered: true }, false)
    for (const member of cluster) if (member !== leader) run.send(member, 'hb', 0, piece.index, encoded)
  }
}
