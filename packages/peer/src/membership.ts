/**
 * The peers this daemon knows. A peer that speaks `/atoll/ctrl/1` (learnt from identify) is asked for its
 * capability report and its own peer list; peers on that list are dialled (peer exchange: three peers
 * that share one bootstrap address end up knowing each other). A node that serves ctrl but no capability
 * report (a measuring node, the echo tool) is not a peer and is not kept. Each peer's link is probed
 * once, and again when the result gets old, each time holding the probe floor (@atoll/net) of every
 * peer this daemon is connected to: no probe of another daemon that asks any of them overlaps it, and
 * none of ours runs while a measurement holds the floor. A probe ends at the latest when its lease does.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  type AtollMesh,
  CTRL_PROTOCOL,
  CtrlRemoteError,
  multiaddr,
  type PeerId,
  probeLimitMs,
} from '@atoll/net'
import type { Logger } from 'pino'
import type { PeerMetrics } from './metrics.ts'
import { type CapabilityReport, capabilitiesMethod, type PeerSummary, peersMethod } from './rpc.ts'

export interface MembershipOptions {
  probeSeconds: number
  /** Probe results older than this are refreshed (default 10 min). */
  reprobeMs?: number
  /** Stop dialling peers learnt by exchange beyond this many (default 256). */
  maxPeers?: number
}

interface PeerRecord {
  peerId: PeerId
  addresses: string[]
  connected: boolean
  capabilities?: CapabilityReport
  error?: string
  /** When the capability report and peer list were last fetched (ms since the epoch). */
  learntAt?: number
}

/** Waits `ms`, or less if `signal` aborts; never keeps the process alive. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal, ref: false }).catch(() => {})
}

/** identify runs again on every protocol or address change; within this window a peer is not re-asked. */
const RELEARN_MS = 30_000
/** How long one turn keeps asking for the floor before the peer goes back to the end of the queue. */
const FLOOR_WAIT_MS = 30_000

export class Membership {
  private readonly records = new Map<string, PeerRecord>()
  private readonly queue: PeerId[] = []
  /** The probe loop while it runs; `stop` waits for it to give the floor back. */
  private probing: Promise<void> | undefined
  private readonly stopping = new AbortController()
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly mesh: AtollMesh
  private readonly log: Logger
  private readonly metrics: PeerMetrics
  private readonly options: Required<MembershipOptions>

  constructor(mesh: AtollMesh, log: Logger, metrics: PeerMetrics, options: MembershipOptions) {
    this.mesh = mesh
    this.log = log
    this.metrics = metrics
    this.options = { reprobeMs: 600_000, maxPeers: 256, ...options }
  }

  start(): void {
    const node = this.mesh.node
    node.addEventListener('peer:identify', (evt) => {
      const { peerId, protocols } = evt.detail
      if (protocols.includes(CTRL_PROTOCOL)) void this.learn(peerId)
    })
    node.addEventListener('peer:connect', () => this.metrics.peers.set(node.getPeers().length))
    node.addEventListener('peer:disconnect', (evt) => {
      this.metrics.peers.set(node.getPeers().length)
      const id = evt.detail.toString()
      const rec = this.records.get(id)
      // one that never gave its report is forgotten: the next connection learns it afresh
      if (rec?.capabilities === undefined) this.records.delete(id)
      else rec.connected = false
    })
    // peers connected before this started (identify already done) are learnt from the peer store
    for (const peerId of node.getPeers()) {
      node.peerStore
        .get(peerId)
        .then((p) => {
          if (p.protocols.includes(CTRL_PROTOCOL)) void this.learn(peerId)
        })
        .catch(() => {})
    }
    this.timer = setInterval(() => {
      for (const rec of this.records.values()) if (rec.connected) this.enqueueProbe(rec.peerId)
    }, this.options.reprobeMs)
    this.timer.unref()
  }

  /** Stops probing: the probe in hand is cut short and its floor given back before this resolves. */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.stopping.abort(new Error('the daemon is stopping'))
    await this.probing
  }

  /**
   * What `atoll.peers` answers: every known peer with its device, FLOP/s, RTT and bandwidth (the latest
   * probe, ours or one a measurement asked for). A node whose capability report has not come yet is not
   * a peer yet: it may be a tool that serves none (on a loaded machine the refusal can take seconds).
   */
  summaries(): PeerSummary[] {
    return [...this.records.values()].flatMap((r) => {
      if (r.capabilities === undefined) return []
      const probe = this.mesh.probe.cached(r.peerId.toString())
      const summary: PeerSummary = {
        peerId: r.peerId.toString(),
        name: r.capabilities.name,
        addresses: r.addresses,
        connected: r.connected,
        device: r.capabilities.device,
        flops: r.capabilities.flops,
        rttMs: probe?.rttMs,
        bytesPerSecond: probe?.bytesPerSecond,
        probedAt: probe?.measuredAt,
        error: r.error,
      }
      return [summary]
    })
  }

  private async learn(peerId: PeerId): Promise<void> {
    const id = peerId.toString()
    const rec: PeerRecord = this.records.get(id) ?? { peerId, addresses: [], connected: false }
    this.records.set(id, rec)
    const fresh = rec.connected && rec.learntAt !== undefined && Date.now() - rec.learntAt < RELEARN_MS
    rec.connected = true
    if (fresh) return
    rec.learntAt = Date.now()
    try {
      const capabilities = await this.mesh.ctrl.call(peerId, capabilitiesMethod, {})
      const answer = await this.mesh.ctrl.call(peerId, peersMethod, {})
      if (this.records.get(id) !== rec) return // it left meanwhile, before it was learnt
      rec.capabilities = capabilities
      rec.addresses = answer.self.addresses
      rec.error = undefined
      this.log.info({ peer: id, name: capabilities.name, device: capabilities.device }, 'peer joined')
      for (const p of answer.peers) this.exchange(p)
      this.enqueueProbe(peerId)
    } catch (err) {
      this.unlearnt(rec, err as Error)
    }
  }

  /** A peer that could not be learnt: kept with the error, unless it is no daemon at all. */
  private unlearnt(rec: PeerRecord, err: Error): void {
    const id = rec.peerId.toString()
    const fields = { peer: id, err: { name: err.name, message: err.message } }
    if (err instanceof CtrlRemoteError && err.remoteName === 'UnknownMethodError') {
      if (this.records.get(id) === rec && rec.capabilities === undefined) this.records.delete(id)
      this.log.debug(fields, 'not a peer daemon (it serves no capability report)')
      return
    }
    rec.error = `${err.name}: ${err.message}`
    this.log.warn(fields, 'cannot learn peer')
  }

  /** Dials a peer another peer told us about, unless known already. */
  private exchange(p: PeerSummary): void {
    if (
      p.peerId === this.mesh.peerId ||
      this.records.has(p.peerId) ||
      this.records.size >= this.options.maxPeers
    )
      return
    const addrs = p.addresses.flatMap((a) => {
      try {
        return [multiaddr(a.includes('/p2p/') ? a : `${a}/p2p/${p.peerId}`)]
      } catch {
        return [] // a bad address from another peer is skipped, not trusted
      }
    })
    if (addrs.length === 0) return
    this.mesh.node.dial(addrs).catch((err: Error) => {
      this.log.debug(
        { peer: p.peerId, err: { name: err.name, message: err.message } },
        'exchange dial failed',
      )
    })
  }

  private enqueueProbe(peerId: PeerId): void {
    if (!this.queue.some((q) => q.equals(peerId))) this.queue.push(peerId)
    this.drainProbes()
  }

  private drainProbes(): void {
    this.probing ??= this.probeQueue().finally(() => {
      this.probing = undefined
    })
  }

  private async probeQueue(): Promise<void> {
    const { signal } = this.stopping
    for (
      let peerId = this.queue.shift();
      peerId !== undefined && !signal.aborted;
      peerId = this.queue.shift()
    ) {
      if (!(await this.probeOnFloor(peerId, signal))) this.queue.push(peerId)
    }
  }

  /** Probes `peerId` unless its result is fresh, holding the floor; false when the floor was not had. */
  private async probeOnFloor(peerId: PeerId, stopping: AbortSignal): Promise<boolean> {
    const id = peerId.toString()
    const last = this.mesh.probe.cached(id)
    if (last !== undefined && Date.now() - last.measuredAt <= this.options.reprobeMs / 2) return true
    await this.mesh.floor.whenFree(stopping)
    // daemons that start together, or that one release frees together, would otherwise ask for the
    // floor at the same moment and refuse each other
    await pause(this.options.probeSeconds * 1000 * (0.5 + 1.5 * Math.random()), stopping)
    if (stopping.aborted) return true
    const peers = [...this.records.values()].filter((r) => r.connected).map((r) => r.peerId)
    // the lease is a probe's limit: a probe ends before its lease, even one of a peer that never answers
    const leaseMs = probeLimitMs(this.options.probeSeconds)
    const hold = await this.mesh.floor.acquire(peers, leaseMs, { waitMs: FLOOR_WAIT_MS, signal: stopping })
    if (hold === undefined) {
      this.log.debug({ peer: id, holder: this.mesh.floor.blockedBy() }, 'probe deferred: the floor is taken')
      return stopping.aborted
    }
    try {
      const result = await this.mesh.probe.probe(peerId, { signal: AbortSignal.any([hold.signal, stopping]) })
      this.metrics.probed(result)
      this.log.info(
        { peer: result.peer, rttMs: result.rttMs, bytesPerSecond: result.bytesPerSecond },
        'link probed',
      )
    } catch (err) {
      const fields = { peer: id, err: { name: (err as Error).name, message: (err as Error).message } }
      if (stopping.aborted) this.log.info(fields, 'probe cut short: the daemon is stopping')
      else this.log.warn(fields, 'probe failed')
    } finally {
      await hold.release()
    }
    return true
  }
}
