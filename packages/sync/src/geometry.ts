/**
 * Where each message's elements lie: a tensor of n elements is cut into one chunk per owner (sizes
 * differ by at most one; a chunk may be empty when there are fewer elements than owners), and every
 * chunk into pieces of at most `pieceElements`, the unit that is sent, summed and forwarded.
 */
import { stripeRange } from '@atoll/net'

export interface Piece {
  /** index of the piece within its chunk (the message's `mb`) */
  index: number
  start: number
  end: number
}

/** [start, end) of chunk `chunk` of `chunks` over `length` elements. */
export function chunkRange(length: number, chunks: number, chunk: number): [number, number] {
  return stripeRange(length, chunks, chunk)
}

/** The pieces of [start, end), in order; none for an empty range. */
export function piecesOf(start: number, end: number, pieceElements: number): Piece[] {
  const pieces: Piece[] = []
  for (let from = start, index = 0; from < end; from += pieceElements, index++) {
    pieces.push({ index, start: from, end: Math.min(end, from + pieceElements) })
  }
  return pieces
}

/** The pieces of chunk `chunk` of `chunks` over `length` elements. */
export function chunkPieces(length: number, chunks: number, chunk: number, pieceElements: number): Piece[] {
  const [start, end] = chunkRange(length, chunks, chunk)
  return piecesOf(start, end, pieceElements)
}
