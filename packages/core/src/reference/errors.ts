/** Errors of a reference run's feeds (the per-node ones are in ops/errors.ts). */

/** A graph input was not fed. */
export class MissingFeedError extends Error {
  static override name = 'MissingFeedError'
  constructor(input: string) {
    super(`graph input '${input}' was not fed`)
    this.name = 'MissingFeedError'
  }
}

/** A feed whose name, dtype or shape does not fit the graph's declaration. */
export class FeedMismatchError extends Error {
  static override name = 'FeedMismatchError'
  constructor(message: string) {
    super(message)
    this.name = 'FeedMismatchError'
  }
}
