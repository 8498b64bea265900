/** A stage specification that does not cut the graph into a pipeline; `name` is the code. */
export class PartitionError extends Error {
  static override name = 'PartitionError'
  constructor(message: string) {
    super(message)
    this.name = 'PartitionError'
  }
}
