/**
 * Partitioning: cut the OP-DAG into pipeline stages, each with a forward and a backward graph.
 *
 * @example
 * ```ts
 * const { stages, edges } = partitionGraph(graph, {
 *   loss: 'loss',
 *   stages: [{ scopes: ['wte', 'h.0'] }, { scopes: ['h.1', 'ln_f'] }],
 * })
 * stages[0].forward  // boundary activations in → out (+ saved values)
 * stages[0].backward // grad.<boundary out> in → grad.<boundary in> and grad.<param> out
 * ```
 */
export { assignStages, type StageSpec, scopeMatches } from './assign.ts'
export { PartitionError } from './errors.ts'
export { gradientCarriers } from './flow.ts'
export { type BoundaryEdge, type Partition, type PartitionOptions, partitionGraph } from './partition.ts'
export type { Stage } from './stage.ts'
