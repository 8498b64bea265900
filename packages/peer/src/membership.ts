/**
 * The peers this daemon knows. A peer that speaks `/atoll/ctrl/1` (learnt from identify) is asked for its
 * capability report and its own peer list; peers on that list are dialled (peer exchange: three peers
 * that share one bootstrap address end up knowing each other). Each peer's link is probed once, and
 * again when the result gets old, each time holding the mesh's probe floor (@atoll/net): no other probe
 * runs anywhere in the mesh meanwhile, and none of ours while a measurement holds it.
 */
import { type AtollMesh, CTRL_PROTOCOL, multiaddr, type PeerId } from '@atoll/net'
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

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}

/** identify runs again on every protocol or address change; within this window a peer is not re-asked. */
const RELEARN_MS = 30_000
/**
 * The lease a background probe asks for: this, plus its budget times PROBE_LEASE_FACTOR (a probe takes
 * its budget plus a few round trips, or ten round trips on a long link). It is given back as soon as
 * the probe ends; the lease only bounds how long a daemon that dies mid-probe blocks the others.
 */
const FLOOR_MS = 30_000
const PROBE_LEASE_FACTOR = 2
/** How long one turn keeps asking for the floor before the peer goes back to the end of the queue. */
const FLOOR_WAIT_MS = 30_000

export class Membership {
  private readonly records = new Map<string, PeerRecord>()
  private readonly queue: PeerId[] = []
  private probing = false
  private stopped = false
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
      const rec = this.records.get(evt.detail.toString())
      if (rec !== undefined) rec.connected = false
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

  stop(): void {
    this.stopped = true
    clearInterval(this.timer)
  }

  /**
   * What `atoll.peers` answers: every known peer with its device, FLOP/s, RTT and bandwidth (the latest
   * probe, ours or one a measurement asked for).
   */
  summaries(): PeerSummary[] {
    return [...this.records.values()].map((r) => {
      const probe = this.mesh.probe.cached(r.peerId.toString())
      return {
        peerId: r.peerId.toString(),
        name: r.capabilities?.name,
        addresses: r.addresses,
        connected: r.connected,
        device: r.capabilities?.device,
        flops: r.capabilities?.flops,
        rttMs: probe?.rttMs,
        bytesPerSecond: probe?.bytesPerSecond,
        probedAt: probe?.measuredAt,
        error: r.error,
      }
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
      rec.capabilities = await this.mesh.ctrl.call(peerId, capabilitiesMethod, {})
      const answer = await this.mesh.ctrl.call(peerId, peersMethod, {})
      rec.addresses = answer.self.addresses
      rec.error = undefined
      this.log.info({ peer: id, name: rec.capabilities.name, device: rec.capabilities.device }, 'peer joined')
      for (const p of answer.peers) this.exchange(p)
      this.enqueueProbe(peerId)
    } catch (err) {
      rec.error = `${(err as Error).name}: ${(err as Error).message}`
      this.log.warn(
        { peer: id, err: { name: (err as Error).name, message: (err as Error).message } },
        'cannot learn peer',
      )
    }
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
    void this.drainProbes()
  }

  private async drainProbes(): Promise<void> {
    if (this.probing) return
    this.probing = true
    try {
      for (
        let peerId = this.queue.shift();
        peerId !== undefined && !this.stopped;
        peerId = this.queue.shift()
      ) {
        if (!(await this.probeOnFloor(peerId))) this.queue.push(peerId)
      }
    } finally {
      this.probing = false
    }
  }

  /** Probes `peerId` unless its result is fresh, holding the floor; false when the floor was not had. */
  private async probeOnFloor(peerId: PeerId): Promise<boolean> {
    const id = peerId.toString()
    const last = this.mesh.probe.cached(id)
    if (last !== undefined && Date.now() - last.measuredAt <= this.options.reprobeMs / 2) return true
    await this.mesh.floor.whenFree()
    // daemons that start together, or that one release frees together, would otherwise ask for the
    // floor at the same moment and refuse each other
    await pause(this.options.probeSeconds * 1000 * (0.5 + 1.5 * Math.random()))
    if (this.stopped) return true
    const peers = [...this.records.values()].filter((r) => r.connected).map((r) => r.peerId)
    const leaseMs = FLOOR_MS + PROBE_LEASE_FACTOR * this.options.probeSeconds * 1000
    const hold = await this.mesh.floor.acquire(peers, leaseMs, { waitMs: FLOOR_WAIT_MS })
    if (hold === undefined) {
      this.log.debug({ peer: id, holder: this.mesh.floor.blockedBy() }, 'probe deferred: the floor is taken')
      return false
    }
    try {
      const result = await this.mesh.probe.probe(peerId)
      this.metrics.probed(result)
      this.log.info(
        { peer: result.peer, rttMs: result.rttMs, bytesPerSecond: result.bytesPerSecond },
        'link probed',
      )
    } catch (err) {
      this.log.warn(
        { peer: id, err: { name: (err as Error).name, message: (err as Error).message } },
        'probe failed',
      )
    } finally {
      await hold.release()
    }
    return true
  }
}
