/** A stage specification that does not cut the graph into a pipeline; `name` is the code. */
import { AtollError } from '../errors.ts'
export class PartitionError extends AtollError {}
