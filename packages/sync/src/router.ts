/**
 * Hands each sync message a mesh receives to the group it names (the header's `job`). One router per
 * mesh, made when the first group on it is made and gone with the last, so that a message for a
 * group this peer is not in is rejected once, with that reason, rather than ignored by every group.
 * A mesh has one tensor gate, owned by whoever runs the peer: `syncGate` gives the part of it that
 * judges sync messages, for that owner to call.
 */
import type { TensorHeader } from '@atoll/compress'
import type { AtollMesh, IncomingTensor, TensorGate, TensorTransport } from '@atoll/net'
import { isSyncEdge } from './edge.ts'
import { InvalidSyncOptionError } from './errors.ts'

/** What a group shows its router. */
export interface SyncEndpoint {
  readonly group: string
  receive(msg: IncomingTensor): void
  /** why a header is refused, or undefined */
  admit(header: TensorHeader, from: string): string | undefined
  /** hears of a message for a group that is not on this mesh */
  strayed(msg: IncomingTensor, reason: string): void
}

class SyncRouter {
  readonly groups = new Map<string, SyncEndpoint>()
  readonly #off: () => void

  constructor(transport: TensorTransport) {
    this.#off = transport.onMessage((msg) => this.route(msg))
  }

  route(msg: IncomingTensor): void {
    if (!isSyncEdge(msg.header.edge)) return
    const endpoint = this.groups.get(msg.header.job)
    if (endpoint !== undefined) {
      endpoint.receive(msg)
      return
    }
    const reason = `no sync group '${msg.header.job}' here`
    for (const each of this.groups.values()) each.strayed(msg, reason)
  }

  gate(header: TensorHeader, from: string): string | undefined {
    const endpoint = this.groups.get(header.job)
    return endpoint === undefined ? `no sync group '${header.job}' here` : endpoint.admit(header, from)
  }

  stop(): void {
    this.#off()
  }
}

const routers = new WeakMap<TensorTransport, SyncRouter>()

/** Routes `endpoint`'s messages to it from now on; returns the function that stops that. */
export function joinRouter(mesh: AtollMesh, endpoint: SyncEndpoint): () => void {
  const router = routers.get(mesh.tensors) ?? new SyncRouter(mesh.tensors)
  routers.set(mesh.tensors, router)
  if (router.groups.has(endpoint.group)) {
    throw new InvalidSyncOptionError(`group: '${endpoint.group}' already has a SyncGroup on this mesh`)
  }
  router.groups.set(endpoint.group, endpoint)
  return () => {
    if (router.groups.get(endpoint.group) !== endpoint) return
    router.groups.delete(endpoint.group)
    if (router.groups.size > 0) return
    router.stop()
    routers.delete(mesh.tensors)
  }
}

/**
 * The gate for sync messages on `mesh`: undefined (no opinion) for other tensors; for a sync message,
 * the reason its group refuses its header, or that no such group is here. Compose it into the mesh's
 * gate: `mesh.tensors.setGate((h, from) => isSyncEdge(h.edge) ? sync(h, from) : jobGate(h, from))`.
 */
export function syncGate(mesh: AtollMesh): TensorGate {
  return (header, from) => {
    if (!isSyncEdge(header.edge)) return undefined
    const router = routers.get(mesh.tensors)
    return router === undefined ? 'no sync group runs here' : router.gate(header, from)
  }
}
