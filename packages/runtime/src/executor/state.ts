/**
 * Live model state (BatchNorm running statistics): the stage graph's own non-trainable
 * initializers, fed to every training forward and overwritten in place with the values it returns,
 * once per forward (per micro-batch), as PyTorch updates them on every forward call. The model's
 * graph holds the same tensors, so evaluation and checkpoints see the updated values.
 */
import { type Graph, type StateUpdate, stateUpdates, type Tensor } from '@atoll/core'
import type { Value } from '../backend/backend.ts'
import { SessionError } from '../errors.ts'

/** The state tensors a forward reads, by name. */
export function stateFeeds(graph: Graph, state: readonly StateUpdate[]): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {}
  for (const { state: name } of state) feeds[name] = liveState(graph, name)
  return feeds
}

/** Copies each updated value a forward returned into its state tensor, and frees the output. */
export async function writeBackState(
  graph: Graph,
  state: readonly StateUpdate[],
  out: Record<string, Value>,
): Promise<void> {
  for (const { state: name, update } of state) {
    const v = out[update]
    if (v === undefined) throw new SessionError(`the forward of '${graph.name}' did not return '${update}'`)
    const live = liveState(graph, name)
    const next = await v.read()
    if (next.data.length !== live.data.length)
      throw new SessionError(
        `'${update}' has ${next.data.length} values, state '${name}' ${live.data.length}`,
      )
    ;(live.data as Float32Array).set(next.data as Float32Array)
    v.dispose()
  }
}

function liveState(graph: Graph, name: string): Tensor {
  const t = graph.initializers.get(name)
  if (t === undefined) throw new SessionError(`state '${name}' is not an initializer of '${graph.name}'`)
  return t
}

/** The live state tensors of a model (its training BatchNorms' running statistics), by name. */
export function modelState(graph: Graph): Map<string, Tensor> {
  return new Map(stateUpdates(graph).map(({ state }) => [state, liveState(graph, state)]))
}
