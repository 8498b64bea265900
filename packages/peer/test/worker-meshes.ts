/**
 * Job workers on libp2p nodes in this process (real loopback connections), each gated as the daemon
 * gates it (sync and replica messages judged by @atoll/sync, the rest by the worker), and the mesh of
 * the coordinator that drives them: the in-process job tests' peers.
 */
import { AtollMesh, createNode, type TensorGate } from '@atoll/net'
import type { Backend } from '@atoll/runtime'
import { isReplicaEdge, isSyncEdge, replicaGate, syncGate } from '@atoll/sync'
import { pino } from 'pino'
import { type JobPeer, JobWorker } from '../src/index.ts'

export interface WorkerMeshes {
  coordinator: AtollMesh
  /** `refuse`: a test's gate, asked before the daemon's (a reason refuses the tensor) */
  workers: { mesh: AtollMesh; worker: JobWorker; refuse?: TensorGate }[]
  /** the workers as a coordinator addresses them, in start order */
  peers(): JobPeer[]
  stop(): Promise<void>
}

async function startMesh(): Promise<AtollMesh> {
  const mesh = new AtollMesh(await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'] }))
  await mesh.start()
  return mesh
}

/** `count` workers that accept stages from the returned coordinator's mesh alone. */
export async function startWorkerMeshes(count: number, backend: Backend): Promise<WorkerMeshes> {
  const log = pino({ level: 'silent' })
  const coordinator = await startMesh()
  const workers: WorkerMeshes['workers'] = []
  for (let k = 0; k < count; k++) {
    const mesh = await startMesh()
    const worker = new JobWorker({
      mesh,
      log,
      backend: async () => backend,
      allow: new Set([coordinator.peerId]),
    })
    worker.serve()
    const sync = syncGate(mesh)
    const replicas = replicaGate(mesh)
    const entry: WorkerMeshes['workers'][number] = { mesh, worker }
    mesh.tensors.setGate((header, from) => {
      const refused = entry.refuse?.(header, from)
      if (refused !== undefined) return refused
      if (isSyncEdge(header.edge)) return sync(header, from)
      return isReplicaEdge(header.edge) ? replicas(header, from) : worker.gate(header, from)
    })
    mesh.tensors.onMessage((msg) => worker.received(msg))
    workers.push(entry)
  }
  return {
    coordinator,
    workers,
    peers: () =>
      workers.map(({ mesh }) => ({ peerId: mesh.peerId, addresses: mesh.node.getMultiaddrs().map(String) })),
    async stop() {
      for (const { mesh, worker } of workers) {
        await worker.stop()
        await mesh.stop(0)
      }
      await coordinator.stop(0)
    },
  }
}
