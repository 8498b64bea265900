/**
 * Real libp2p meshes on 127.0.0.1 for the sync tests, dialled to each other, and the data and
 * references the tests compare with.
 */
import { seededRandom } from '@atoll/core'
import { AtollMesh, createNode } from '@atoll/net'
import type { LinkProfile } from '@atoll/sched'
import { SyncGroup, type SyncGroupInit, type SyncRejection } from '../src/index.ts'

/** `count` started meshes on loopback, every pair connected (sends go by peer id). */
export async function loopbackMeshes(count: number): Promise<AtollMesh[]> {
  const meshes = await Promise.all(
    Array.from({ length: count }, async () => {
      const mesh = new AtollMesh(await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], webrtc: false }))
      await mesh.start()
      return mesh
    }),
  )
  for (const [i, a] of meshes.entries()) {
    for (const b of meshes.slice(i + 1)) await a.node.dial(b.node.getMultiaddrs())
  }
  // the dialled side learns of a connection a little after the dialler: wait until both ends have it
  for (const a of meshes) {
    for (const b of meshes) if (a !== b) await connected(a, b)
  }
  return meshes
}

function connected(a: AtollMesh, b: AtollMesh): Promise<void> {
  const open = () => a.node.getConnections(b.node.peerId).some((c) => c.status === 'open')
  if (open()) return Promise.resolve()
  return new Promise((resolve) => {
    const check = () => {
      if (!open()) return
      a.node.removeEventListener('connection:open', check)
      resolve()
    }
    a.node.addEventListener('connection:open', check)
    check()
  })
}

export async function stopMeshes(meshes: readonly AtollMesh[]): Promise<void> {
  await Promise.all(meshes.map((m) => m.stop(100)))
}

/** Resolves once `mesh` has received `count` sync notices (a member naming whom it found late). */
export function noticesReaching(mesh: AtollMesh, count: number): Promise<void> {
  let seen = 0
  return new Promise((resolve) => {
    const off = mesh.tensors.onMessage(({ header }) => {
      if (!header.edge.includes(':x:') || ++seen < count) return
      off()
      resolve()
    })
  })
}

/** The same link between every two of `ids`. */
export function uniformLinks(ids: readonly string[], bandwidthBps = 1e9, rttSeconds = 0.001): LinkProfile[] {
  const links: LinkProfile[] = []
  for (const [i, a] of ids.entries())
    for (const b of ids.slice(i + 1)) links.push({ a, b, bandwidthBps, rttSeconds })
  return links
}

/** Links of two sites: fast inside each, slow between. */
export function twoSiteLinks(siteA: readonly string[], siteB: readonly string[]): LinkProfile[] {
  const inside = [...uniformLinks(siteA, 1.25e9, 0.0002), ...uniformLinks(siteB, 1.25e9, 0.0002)]
  const across = siteA.flatMap((a) => siteB.map((b) => ({ a, b, bandwidthBps: 1.25e7, rttSeconds: 0.04 })))
  return [...inside, ...across]
}

/**
 * One group per mesh over all of them. The deadline's floor is long (10 s): several meshes in one
 * process pay far more per message than the links' figures say, and a test that wants a member late
 * passes its own short deadline.
 */
export function groupsOf(meshes: readonly AtollMesh[], init: Partial<SyncGroupInit> = {}): SyncGroup[] {
  const members = meshes.map((m) => m.peerId)
  return meshes.map(
    (mesh) =>
      new SyncGroup({
        mesh,
        group: 'test-group',
        members,
        links: uniformLinks(members),
        deadline: { slack: 3, floorSeconds: 10 },
        ...init,
      }),
  )
}

/** Every rejection a group reports, kept. */
export function rejections(group: SyncGroup): SyncRejection[] {
  const seen: SyncRejection[] = []
  group.onReject((r) => seen.push(r))
  return seen
}

/**
 * Pseudo-random values spread over many magnitudes (1e-4 to 1e4, both signs), so that the order of
 * float32 additions changes the bits of the sum.
 */
export function spreadValues(length: number, seed: number): Float32Array {
  const random = seededRandom(seed)
  const out = new Float32Array(length)
  for (let i = 0; i < length; i++) {
    const unit = random()
    out[i] = (random() < 0.5 ? -1 : 1) * 10 ** (unit * 8 - 4) * (1 + unit)
  }
  return out
}

/** ((x0 + x1) + x2) + …, in float32, in the given order. */
export function sequentialSum(inputs: readonly Float32Array[]): Float32Array {
  const sum = Float32Array.from(inputs[0])
  for (const input of inputs.slice(1)) for (let k = 0; k < sum.length; k++) sum[k] += input[k]
  return sum
}

export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length)
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length)
  return x.every((v, i) => v === y[i])
}

/** The largest |a − b| over the elements. */
export function maxDifference(a: Float32Array, b: Float32Array): number {
  let worst = 0
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]))
  return worst
}
