import { DatasetError } from '../errors.ts'
import { createRandom, dirichlet, mixSeed, permutation, shuffleInPlace } from './random.ts'

/**
 * The order of samples 0…n−1 in `epoch`: a fresh permutation per epoch, the same on every peer
 * for the same seed.
 */
export function epochOrder(samples: number, seed: number, epoch: number): Uint32Array {
  return permutation(samples, mixSeed(seed, epoch))
}

/**
 * Peer `peer` of `peers` takes every peers-th index starting at its own (torch's
 * DistributedSampler without padding): shards are disjoint, cover everything, and differ in size
 * by at most one.
 */
export function shard(indices: Uint32Array, peer: number, peers: number): Uint32Array {
  if (!Number.isInteger(peers) || peers < 1)
    throw new DatasetError(`peer count must be an integer ≥ 1, got ${peers}`)
  if (!Number.isInteger(peer) || peer < 0 || peer >= peers) {
    throw new DatasetError(`peer index must be an integer in [0, ${peers}), got ${peer}`)
  }
  const out = new Uint32Array(Math.ceil((indices.length - peer) / peers))
  for (let i = peer, j = 0; i < indices.length; i += peers, j++) out[j] = indices[i]
  return out
}

export interface DirichletOptions {
  /** concentration α > 0: small α gives each client few classes, large α approaches IID */
  alpha: number
  clients: number
  seed: number
  /** resample until every client holds at least this many samples (default 0); gives up after 100 tries */
  minPerClient?: number
}

const MAX_DIRICHLET_TRIES = 100

/**
 * Non-IID split by label (Hsu et al. 2019, as in NIID-Bench): for each class, draw client
 * proportions p ~ Dir(α·1) and hand the class's (shuffled) samples out in those proportions. Every
 * sample goes to exactly one client. Returns each client's sample indices, ascending.
 */
export function dirichletPartition(labels: ArrayLike<number>, options: DirichletOptions): Uint32Array[] {
  const { alpha, clients, seed, minPerClient = 0 } = options
  if (!(alpha > 0) || !Number.isFinite(alpha))
    throw new DatasetError(`α must be a finite number > 0, got ${alpha}`)
  if (!Number.isInteger(clients) || clients < 1)
    throw new DatasetError(`clients must be an integer ≥ 1, got ${clients}`)
  if (minPerClient * clients > labels.length) {
    throw new DatasetError(`${labels.length} samples cannot give ${clients} clients ${minPerClient} each`)
  }
  const byClass = indicesByClass(labels)
  for (let attempt = 0; attempt < MAX_DIRICHLET_TRIES; attempt++) {
    const parts = dirichletOnce(byClass, alpha, clients, mixSeed(seed, attempt))
    if (parts.every((p) => p.length >= minPerClient)) return parts
  }
  throw new DatasetError(
    `no Dirichlet(${alpha}) split in ${MAX_DIRICHLET_TRIES} tries gave every client ≥ ${minPerClient}`,
  )
}

function dirichletOnce(byClass: Uint32Array[], alpha: number, clients: number, seed: number): Uint32Array[] {
  const random = createRandom(seed)
  const buckets: number[][] = Array.from({ length: clients }, () => [])
  for (const members of byClass) {
    const order = members.slice()
    shuffleInPlace(order, random)
    const p = dirichlet(random, alpha, clients)
    let start = 0
    let cumulative = 0
    for (let c = 0; c < clients; c++) {
      cumulative += p[c]
      const end =
        c === clients - 1 ? order.length : Math.min(order.length, Math.round(cumulative * order.length))
      for (let i = start; i < end; i++) buckets[c].push(order[i])
      start = Math.max(start, end)
    }
  }
  return buckets.map((b) => Uint32Array.from(b).sort())
}

/** Sample indices grouped by label, in ascending order within each class. */
export function indicesByClass(labels: ArrayLike<number>): Uint32Array[] {
  let classes = 0
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]
    if (!Number.isInteger(y) || y < 0) throw new DatasetError(`label ${i} is ${y}, expected an integer ≥ 0`)
    if (y + 1 > classes) classes = y + 1
  }
  const counts = new Uint32Array(classes)
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++
  const out = Array.from(counts, (n) => new Uint32Array(n))
  counts.fill(0)
  for (let i = 0; i < labels.length; i++) out[labels[i]][counts[labels[i]]++] = i
  return out
}

/**
 * How far the clients' label distributions are from the whole set's: the size-weighted mean total
 * variation distance, 0 for IID, approaching 1 when each client holds one class.
 */
export function labelSkew(labels: ArrayLike<number>, parts: readonly Uint32Array[]): number {
  const byClass = indicesByClass(labels)
  const global = byClass.map((m) => m.length / labels.length)
  let weighted = 0
  let total = 0
  for (const part of parts) {
    if (part.length === 0) continue
    const hist = new Float64Array(global.length)
    for (const i of part) hist[labels[i]]++
    let tv = 0
    for (let k = 0; k < global.length; k++) tv += Math.abs(hist[k] / part.length - global[k])
    weighted += (tv / 2) * part.length
    total += part.length
  }
  return total === 0 ? 0 : weighted / total
}
