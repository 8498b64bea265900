/**
 * One error class per failure of bad input data; `name` is the class name so callers branch on
 * `err.name`. Every message names the offending field and says what was expected and what was found.
 */
import { AtollError, describeValue } from '@atoll/core'
export class SchedError extends AtollError {}

/** A profile or plan input field is missing, of the wrong type or out of range. */
export class InvalidFieldError extends SchedError {
  /** dotted path of the field, e.g. `peers[3].flops` */
  readonly field: string
  constructor(field: string, expected: string, found: unknown) {
    super(`${field}: expected ${expected}, found ${describeValue(found)}`)
    this.field = field
  }
}

/** Text that should hold JSON (NaN allowed as a value) does not parse. */
export class ProfileParseError extends SchedError {}

/** A link or an op refers to a peer or an op that does not exist, or an id appears twice. */
export class UnknownReferenceError extends SchedError {}

/** The op graph has a cycle, so it has no topological order to cut. */
export class CyclicGraphError extends SchedError {}

/** No placement satisfies the constraints (memory, connectivity). */
export class InfeasiblePlanError extends SchedError {}

/** A stage of a hand-made placement names a scope prefix that no node of the graph has. */
export class UnmatchedScopeError extends SchedError {}

/**
 * Stages out of the graph's order: a stage reads a value that a later stage computes, or the loss
 * is not computed by the last stage (backward starts there).
 */
export class StageOrderError extends SchedError {}

/** A placement puts on a peer a stage that needs more memory than the peer has. */
export class InsufficientMemoryError extends InfeasiblePlanError {}
