/**
 * How a sync message names itself on the wire. The tensor header's `job` is the group, `step` the
 * round and `mb` the piece; the edge is `sync:<fingerprint>:<phase>:<chunk>:<name>`. The fingerprint
 * hashes everything the replicas must agree on (members, algorithm, clusters, piece size, codec), so
 * a replica that disagrees is told so instead of having its pieces mixed into the wrong sum.
 */
import { parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import { MAX_MEMBERS, MAX_NAME_LENGTH, SYNC_EDGE_PREFIX } from './constants.ts'
import { SyncMessageError } from './errors.ts'

/**
 * `rs`/`ag`: flat reduce-scatter and all-gather; `hr`: a cluster's reduce to its leader; `lrs`/`lag`:
 * the leaders' reduce-scatter and all-gather; `hb`: a leader's broadcast to its cluster; `x`: a
 * notice that the sender gave up on the collective, naming the members it found late.
 */
export const SYNC_PHASES = ['rs', 'ag', 'hr', 'lrs', 'lag', 'hb', 'x'] as const
export type SyncPhase = (typeof SYNC_PHASES)[number]

export interface SyncAddress {
  fingerprint: string
  phase: SyncPhase
  /** chunk index within the phase (0 where a phase has one) */
  chunk: number
  /** the collective's name */
  name: string
}

const address = z.object({
  fingerprint: z.string().check(z.regex(/^[0-9a-f]{8}$/)),
  phase: z.enum(SYNC_PHASES),
  chunk: z.int().check(z.gte(0), z.lt(MAX_MEMBERS)),
  name: z.string().check(z.minLength(1), z.maxLength(MAX_NAME_LENGTH)),
})

const EDGE = /^sync:([^:]*):([^:]*):([^:]*):(.*)$/s

export function isSyncEdge(edge: string): boolean {
  return edge.startsWith(SYNC_EDGE_PREFIX)
}

export function syncEdge(where: SyncAddress): string {
  return `${SYNC_EDGE_PREFIX}${where.fingerprint}:${where.phase}:${where.chunk}:${where.name}`
}

/** The address an edge names; throws SyncMessageError naming the field that is wrong. */
export function parseSyncEdge(edge: string): SyncAddress {
  const match = EDGE.exec(edge)
  if (match === null) {
    throw new SyncMessageError(`edge '${edge.slice(0, 80)}' is not sync:<fingerprint>:<phase>:<chunk>:<name>`)
  }
  const [, fingerprint, phase, chunk, name] = match
  // digits become a number for the schema; anything else stays text, so the error shows it
  const chunkValue = /^\d{1,9}$/.test(chunk) ? Number(chunk) : chunk
  return parseWith(address, { fingerprint, phase, chunk: chunkValue, name }, SyncMessageError, {
    root: 'edge',
  })
}

/** FNV-1a (32 bits) of `text` as 8 hex digits: short, and the same on every replica. */
export function fingerprintOf(text: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0).toString(16).padStart(8, '0')
}
