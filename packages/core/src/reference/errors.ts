/** Errors of a reference run's feeds (the per-node ones are in ops/errors.ts). */
import { AtollError } from '../errors.ts'

/** A graph input was not fed. */
export class MissingFeedError extends AtollError {
  constructor(input: string) {
    super(`graph input '${input}' was not fed`)
  }
}

/** A feed whose name, dtype or shape does not fit the graph's declaration. */
export class FeedMismatchError extends AtollError {}
