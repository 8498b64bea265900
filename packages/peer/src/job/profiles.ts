/**
 * What a coordinator plans from: the membership as the daemons know it. One daemon (the local one, or
 * a bootstrap address) names the peers; each peer's capability report gives its device, FLOP/s and
 * memory; each peer's own peer list gives the links it probed. A link's bandwidth is the higher of its
 * two directions' readings (shaping is a ceiling; a busy CPU only reads low), its RTT the lower. So a
 * coordinator that waits for the links also waits, a little longer, for each link's second reading:
 * one probe that a busy machine read at half the rate would otherwise put a fence inside a site
 * (seen on a loaded 2-core machine: a demo's site, a sync job's four replicas cut apart).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { type AtollMesh, type CtrlMethod, multiaddr } from '@atoll/net'
import type { LinkProfile, PeerProfile } from '@atoll/sched'
import { capabilitiesMethod, type PeersAnswer, peersMethod } from '../rpc.ts'
import { WorkerLostError } from './errors.ts'

export interface MemberProfile extends PeerProfile {
  name: string
  addresses: string[]
}

export interface MeshProfile {
  peers: MemberProfile[]
  links: LinkProfile[]
  /** pairs of peers neither of which has probed the other yet */
  unmeasured: [string, string][]
  /** pairs of which one peer only has probed the other (their link has one reading) */
  oneWay: [string, string][]
}

/** How long a coordinator that waits for the links waits beyond the first reading of every link for
 * the second (a peer that cannot probe one way delays each plan by no more than this). */
export const SECOND_READING_WAIT_MS = 15_000

export interface GatherOptions {
  /**
   * wait until every pair of peers has a link reading, up to this long (default 0: take what there
   * is), then for the links' second readings, up to SECOND_READING_WAIT_MS more (within waitMs)
   */
  waitMs?: number
  timeoutMs?: number
  /** peers to leave out (lost ones) */
  exclude?: ReadonlySet<string>
  /** told how many links are measured while waiting */
  progress?(measured: number, total: number): void
}

/** Profiles of the peers the daemon at `addresses` knows, and of itself. */
export async function gatherProfiles(
  mesh: AtollMesh,
  addresses: readonly string[],
  options: GatherOptions = {},
): Promise<MeshProfile> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const call = <Res>(target: string[], method: CtrlMethod<Record<string, never>, Res>) =>
    mesh.ctrl.call(
      target.map((a) => multiaddr(a)),
      method,
      {},
      { timeoutMs },
    )
  const first = await firstAnswer(addresses, (target) => call(target, peersMethod))
  const members = [
    { peerId: first.self.peerId, addresses: first.self.addresses },
    ...first.peers.filter((p) => p.connected).map((p) => ({ peerId: p.peerId, addresses: p.addresses })),
    // the asker is connected to the daemon too, and listed while the daemon has yet to learn it is no
    // peer; a peer that has just joined may have no address yet (it joins the job at a later plan)
  ].filter((m) => !options.exclude?.has(m.peerId) && m.peerId !== mesh.peerId && m.addresses.length > 0)
  const reports = await Promise.all(
    members.map((m) =>
      call(m.addresses, capabilitiesMethod).catch((err: Error) => {
        throw new WorkerLostError(`peer ${m.peerId} gave no capability report: ${err.message}`, {
          cause: err,
        })
      }),
    ),
  )
  const peers: MemberProfile[] = members.map((m, k) => ({
    id: m.peerId,
    name: reports[k].name,
    addresses: m.addresses,
    device: reports[k].device,
    flops: reports[k].flops,
    memoryBytes: reports[k].memory.totalBytes,
    ...(reports[k].host === undefined ? {} : { host: reports[k].host }),
  }))
  const until = performance.now() + (options.waitMs ?? 0)
  let secondUntil = Number.POSITIVE_INFINITY
  for (;;) {
    const answers = await Promise.all(members.map((m) => call(m.addresses, peersMethod)))
    const measured = linksOf(peers, answers)
    options.progress?.(measured.links.length, measured.links.length + measured.unmeasured.length)
    const now = performance.now()
    if (measured.unmeasured.length === 0) secondUntil = Math.min(secondUntil, now + SECOND_READING_WAIT_MS)
    const complete = measured.unmeasured.length === 0 && measured.oneWay.length === 0
    if (complete || now >= until || now >= secondUntil) return { peers, ...measured }
    await sleep(1000)
  }
}

/** The links among `peers` from their answers: each pair's readings, both ways where both probed. */
export function linksOf(peers: readonly Pick<MemberProfile, 'id'>[], answers: readonly PeersAnswer[]) {
  const readings = new Map<string, { bytesPerSecond: number; rttMs: number }[]>()
  const key = (a: string, b: string) => (a < b ? `${a} ${b}` : `${b} ${a}`)
  for (const answer of answers)
    for (const p of answer.peers)
      if (p.bytesPerSecond !== undefined && p.rttMs !== undefined && p.bytesPerSecond > 0) {
        const k = key(answer.self.peerId, p.peerId)
        readings.set(k, [...(readings.get(k) ?? []), { bytesPerSecond: p.bytesPerSecond, rttMs: p.rttMs }])
      }
  const links: LinkProfile[] = []
  const unmeasured: [string, string][] = []
  const oneWay: [string, string][] = []
  for (let i = 0; i < peers.length; i++)
    for (let j = i + 1; j < peers.length; j++) {
      const got = readings.get(key(peers[i].id, peers[j].id))
      if (got === undefined) unmeasured.push([peers[i].id, peers[j].id])
      else {
        if (got.length < 2) oneWay.push([peers[i].id, peers[j].id])
        links.push({
          a: peers[i].id,
          b: peers[j].id,
          bandwidthBps: Math.max(...got.map((r) => r.bytesPerSecond)),
          rttSeconds: Math.min(...got.map((r) => r.rttMs)) / 1000,
        })
      }
    }
  return { links, unmeasured, oneWay }
}

/**
 * The answer of the first daemon among `addresses` that gives one: the addresses are grouped by the
 * peer they name (`/p2p/<id>`), since one dial takes the addresses of one peer only.
 */
async function firstAnswer<T>(
  addresses: readonly string[],
  ask: (target: string[]) => Promise<T>,
): Promise<T> {
  const byPeer = new Map<string, string[]>()
  for (const a of addresses) {
    const peer = /\/p2p\/([^/]+)$/.exec(a)?.[1] ?? a
    byPeer.set(peer, [...(byPeer.get(peer) ?? []), a])
  }
  let last: Error | undefined
  for (const group of byPeer.values()) {
    try {
      return await ask(group)
    } catch (err) {
      last = err as Error
    }
  }
  throw last ?? new WorkerLostError('no daemon address to learn the membership from')
}
