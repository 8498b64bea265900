import type { Graph, Partition } from '@atoll/core'

/**
 * The stage graphs the executor runs, from core's partition: each stage's forward graph with only
 * its boundary outputs (the executor decides, per shape signature, what to stash or recompute).
 * Shapes are those the partition was bound with, so feed micro-batches of that size.
 */
export function stageGraphsOf(partition: Partition): Graph[] {
  return partition.stages.map((stage) => ({
    ...stage.forward,
    name: `${stage.forward.name.replace(/\.forward$/, '')}`,
    outputs: stage.forward.outputs.filter((o) => stage.activationsOut.includes(o.name)),
    parameters: new Set(stage.parameters),
  }))
}
