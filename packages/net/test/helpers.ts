import { createHash } from 'node:crypto'
import type { HeaderFields } from '@atoll/compress'
import { AtollMesh, type IncomingTensor, type MeshInit } from '../src/index.ts'
import { createNode } from '../src/node.ts'

/** A mesh on loopback, without WebRTC (nothing here needs it, and it starts faster). */
export async function loopbackMesh(init: MeshInit = {}): Promise<AtollMesh> {
  const mesh = new AtollMesh(await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], webrtc: false }), init)
  await mesh.start()
  return mesh
}

/** The header of a raw one-dimensional tensor of `length` elements. */
export function fields(edge: string, length: number, dtype: 'uint8' | 'float32' = 'uint8'): HeaderFields {
  return { job: 'test', step: 0, mb: 0, edge, dtype, shape: [length], codec: 'raw', codecMeta: {} }
}

/** The next tensor message on `edge` that `mesh` receives. */
export function nextMessage(mesh: AtollMesh, edge: string): Promise<IncomingTensor> {
  return new Promise((resolve) => {
    const off = mesh.tensors.onMessage((m) => {
      if (m.header.edge === edge) {
        off()
        resolve(m)
      }
    })
  })
}

/** Bytes that differ at every position (a dropped or shifted frame changes the hash). */
export function pattern(bytes: number, seed = 1): Uint8Array {
  const out = new Uint8Array(bytes)
  let x = seed >>> 0 || 1
  for (let i = 0; i < bytes; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x
    out[i + 1] = x >>> 8
    out[i + 2] = x >>> 16
    out[i + 3] = x >>> 24
  }
  return out
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}
