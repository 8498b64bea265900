import type { Dim, Graph, Tensor } from '@atoll/core'
import { SessionError } from '../errors.ts'
import type { Feed } from '../backend/backend.ts'

/**
 * The sizes of a graph's symbolic dims (`batch`, `seq`) read off the feeds' shapes, checking that
 * every static dim matches and every symbol is bound consistently.
 */
export function bindSymbols(
  graph: Graph,
  feeds: Readonly<Record<string, Feed | Tensor>>,
): Record<string, number> {
  const bindings: Record<string, number> = {}
  for (const input of graph.inputs) {
    const feed = feeds[input.name]
    if (feed === undefined) continue
    const declared: Dim[] | undefined = input.shape
    if (declared === undefined) continue
    if (declared.length !== feed.shape.length) {
      throw new SessionError(
        `'${input.name}' must have rank ${declared.length} [${declared}], got [${feed.shape}]`,
      )
    }
    declared.forEach((d, i) => {
      const actual = feed.shape[i]
      if (typeof d === 'number') {
        if (d !== actual)
          throw new SessionError(`'${input.name}' must have shape [${declared}], got [${feed.shape}]`)
      } else if (bindings[d] === undefined) {
        bindings[d] = actual
      } else if (bindings[d] !== actual) {
        throw new SessionError(
          `'${d}' is ${bindings[d]} elsewhere but ${actual} in '${input.name}' [${feed.shape}]`,
        )
      }
    })
  }
  return bindings
}

/** A key naming the feeds' shapes: sessions are compiled once per key. */
export function shapeSignature(feeds: Readonly<Record<string, { shape: readonly number[] }>>): string {
  return Object.keys(feeds)
    .sort()
    .map((k) => `${k}:${feeds[k].shape.join('x')}`)
    .join(',')
}

/**
 * Slice `index` of `count` equal parts along dim 0, as a view (no copy): micro-batches of a batch
 * stored row-major are contiguous.
 */
export function microBatchView(tensor: Tensor, index: number, count: number): Tensor {
  const rows = tensor.shape[0]
  if (rows === undefined || rows % count !== 0) {
    throw new SessionError(`a batch of ${rows} rows does not split into ${count} micro-batches`)
  }
  const per = rows / count
  const rowSize = tensor.data.length / rows
  const data = tensor.data.subarray(index * per * rowSize, (index + 1) * per * rowSize)
  return { dtype: tensor.dtype, shape: [per, ...tensor.shape.slice(1)], data } as Tensor
}

type Shaped = Readonly<Record<string, { shape: readonly number[] }>>

/**
 * What a stage compiled for each input-shape signature: built on first use, shared by concurrent
 * callers (the map holds the promise), and forgotten when the build fails so a later call retries.
 */
export class ShapeCache<F extends Shaped, T> {
  readonly #entries = new Map<string, Promise<T>>()
  readonly #build: (feeds: F) => Promise<T>

  constructor(build: (feeds: F) => Promise<T>) {
    this.#build = build
  }

  get size(): number {
    return this.#entries.size
  }

  get(feeds: F): Promise<T> {
    const key = shapeSignature(feeds)
    let entry = this.#entries.get(key)
    if (entry === undefined) {
      entry = this.#build(feeds)
      this.#entries.set(key, entry)
      entry.catch(() => this.#entries.delete(key))
    }
    return entry
  }

  /** Hands every entry that compiled to `release` and empties the cache. */
  async clear(release: (compiled: T) => Promise<void>): Promise<void> {
    const entries = [...this.#entries.values()]
    this.#entries.clear()
    for (const entry of entries) {
      const compiled = await entry.catch(() => undefined)
      if (compiled !== undefined) await release(compiled)
    }
  }
}
