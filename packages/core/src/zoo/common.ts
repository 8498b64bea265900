import type { Dim, Graph } from '../graph/types.ts'

/** What every zoo function returns: the graph (loss appended unless asked not to) and its key values. */
export interface ZooModel {
  graph: Graph
  /** the logits output */
  logits: string
  /** the loss output ('loss'), when a loss was appended */
  loss?: string
  /** the graph inputs to feed, data first, then 'targets' when a loss was appended */
  inputs: string[]
}

export interface ZooOptions {
  /** the batch dimension; default the symbol 'batch' */
  batch?: Dim
  /** seed of the parameter initialisation; default 0 */
  seed?: number
  /** parameters as shaped graph inputs with no values (see ModelBuilderOptions.shapesOnly) */
  shapesOnly?: boolean
  /** append a cross-entropy loss against a 'targets' input; default true */
  loss?: boolean
}
