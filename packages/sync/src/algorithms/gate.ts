/**
 * The tensor gate's part for the synchronizers' own messages (`replica:` edges: a joiner's state,
 * asks for a round's outcome and the answers). They are not sync edges, so `syncGate` has no opinion
 * on them; a daemon composes this beside it:
 * `isReplicaEdge(h.edge) ? replica(h, from) : isSyncEdge(h.edge) ? sync(h, from) : jobGate(h, from)`.
 * A header is admitted when a synchronizer of its group runs on this mesh and the sender is one of
 * its members; the payload is checked on arrival (replica-channel.ts).
 */
import type { TensorHeader } from '@atoll/compress'
import type { AtollMesh, TensorGate, TensorTransport } from '@atoll/net'
import { REPLICA_EDGE_PREFIX } from './constants.ts'

/** What the gate asks of a synchronizer: its group's id and whether a peer is one of its members. */
export interface GatedGroup {
  readonly group: string
  isMember(peer: string): boolean
}

const groups = new WeakMap<TensorTransport, Map<string, GatedGroup>>()

export function isReplicaEdge(edge: string): boolean {
  return edge.startsWith(REPLICA_EDGE_PREFIX)
}

/** Makes `group`'s replica messages admissible on `mesh`; returns the function that stops that. */
export function openReplicaGate(mesh: AtollMesh, group: GatedGroup): () => void {
  const here = groups.get(mesh.tensors) ?? new Map<string, GatedGroup>()
  groups.set(mesh.tensors, here)
  here.set(group.group, group)
  return () => {
    if (here.get(group.group) === group) here.delete(group.group)
  }
}

/** The gate for replica messages on `mesh`: undefined (no opinion) for other tensors. */
export function replicaGate(mesh: AtollMesh): TensorGate {
  return (header: TensorHeader, from: string) => {
    if (!isReplicaEdge(header.edge)) return undefined
    const group = groups.get(mesh.tensors)?.get(header.job)
    if (group === undefined) return `no synchronizer of group '${header.job}' here`
    return group.isMember(from) ? undefined : `${from} is not a member of '${header.job}'`
  }
}
