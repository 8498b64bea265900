/**
 * The flat all-reduce among an ordered set of members: reduce-scatter, then all-gather. Member j of
 * the set owns chunk j; every other member sends it its pieces of that chunk, and the owner sums
 * them in the set's order — ((x0 + x1) + x2) + …, its own part at its own place — so each chunk is
 * added up once, in one order, whoever runs it. Each summed piece goes straight out to the others
 * (pipelined behind the pieces still arriving), and every member, the owner included, keeps what was
 * sent: all members end with the same bits, compressed or not.
 *
 * Unlike a ring, which adds each chunk starting at a different member, every member sends to every
 * owner directly: per member the same 2(n−1)/n of the tensor goes out and comes in as in a ring, over
 * n−1 links at once, in two hops rather than 2(n−1).
 */
import { decodeEncoded } from '@atoll/compress'
import type { CollectiveRun } from './collective.ts'
import type { SyncPhase } from './edge.ts'
import { chunkPieces, type Piece } from './geometry.ts'

export interface FlatPhases {
  reduce: SyncPhase
  gather: SyncPhase
  /** depth of the reduce-scatter's messages (0 when the members send their own data) */
  depth: number
}

/** What the flat all-reduce waits for, declared before the collective starts. */
export interface FlatWaits {
  /** member indices, in reduction order */
  set: readonly number[]
  /** this member's position in `set` */
  position: number
  length: number
  phases: FlatPhases
  /** per piece of the owned chunk: each position's part (undefined at this member's own) */
  parts: { piece: Piece; values: (Promise<Float32Array> | undefined)[] }[]
  gathered: { piece: Piece; values: Promise<Float32Array> }[]
}

export function declareFlat(
  run: CollectiveRun,
  set: readonly number[],
  length: number,
  phases: FlatPhases,
): FlatWaits {
  const position = set.indexOf(run.init.self)
  const pieceElements = run.init.pieceElements
  const parts = chunkPieces(length, set.length, position, pieceElements).map((piece) => ({
    piece,
    values: set.map((member, j) =>
      j === position ? undefined : run.expect(phases.reduce, position, piece, member, phases.depth, true),
    ),
  }))
  const gathered: FlatWaits['gathered'] = []
  for (const [j, owner] of set.entries()) {
    if (j === position) continue
    for (const piece of chunkPieces(length, set.length, j, pieceElements)) {
      gathered.push({ piece, values: run.expect(phases.gather, j, piece, owner, phases.depth + 1, true) })
    }
  }
  return { set, position, length, phases, parts, gathered }
}

/** Runs the declared all-reduce of `input` into `output` (both `waits.length` long). */
export async function runFlat(
  run: CollectiveRun,
  waits: FlatWaits,
  input: Float32Array,
  output: Float32Array,
): Promise<void> {
  const { set, position, length, phases } = waits
  for (const [j, owner] of set.entries()) {
    if (j === position) continue
    for (const piece of chunkPieces(length, set.length, j, run.init.pieceElements)) {
      const view = input.subarray(piece.start, piece.end)
      const where = { phase: phases.reduce, start: piece.start, gathered: false }
      run.send(owner, phases.reduce, j, piece.index, () => run.encode(view, where, true))
    }
  }
  const owned = waits.parts.map(async ({ piece, values }) => {
    const parts = await Promise.all(values.map((v) => v ?? input.subarray(piece.start, piece.end)))
    const sum = output.subarray(piece.start, piece.end)
    sumInOrder(parts, sum)
    const encoded = run.encode(sum, { phase: phases.gather, start: piece.start, gathered: true }, true)
    // the owner keeps what the others get: the same bits everywhere, whatever the codec
    if (encoded.codec !== 'raw') decodeEncoded(encoded, sum)
    for (const [j, member] of set.entries()) {
      if (j !== position) run.send(member, phases.gather, position, piece.index, encoded)
    }
  })
  const gathered = waits.gathered.map(async ({ piece, values }) => output.set(await values, piece.start))
  await Promise.all([...owned, ...gathered])
}

/** out = ((parts[0] + parts[1]) + parts[2]) + …, each addition rounded to float32 as it is stored. */
export function sumInOrder(parts: readonly Float32Array[], out: Float32Array): void {
  out.set(parts[0])
  for (let j = 1; j < parts.length; j++) {
    const part = parts[j]
    for (let k = 0; k < out.length; k++) out[k] += part[k]
  }
}
