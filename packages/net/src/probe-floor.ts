/**
 * One probe at a time among the nodes that take the probe floor. Two probes that cross one shaped hop
 * split it and each reads about half of it; serialising probes per node and per server does not see two
 * pairs of peers in the same two sites (measured on geo3: daemons' start-up probes overlapping `status
 * --measure` read the 20 Mbit/s link as 16 and the 50 Mbit/s one as 40.6). So a node probes only while
 * it holds the *floor*: every peer it asked (a daemon asks every peer it is connected to) has granted
 * it a lease, and grants no one else until it is given back or runs out. A node refuses the floor while
 * it asks for it, holds it, or has granted it to another.
 *
 * What that guarantees: two nodes that take the floor never probe at the same time when one asked the
 * other, or both asked a common peer that answered. It does not cover a peer counted as granting
 * because it could not be reached or does not serve the floor, two nodes that share no asked peer
 * (on a mesh where daemons know each other, none), or probes run without the floor (`LinkProbe` used
 * directly); the probe server's BUSY answer still keeps two probes off one receiver.
 *
 * A measurement (or a job's planning) asks with priority: a refused priority asker is next in line,
 * so background probes cannot starve it. It holds the floor for its whole run and has the daemons
 * probe for it with `atoll.probe.run`, which they do only for the holder of their floor; meanwhile
 * their background probes wait.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import * as z from 'zod/mini'
import { type CtrlRpc, ctrlMethod } from './ctrl.ts'
import { CtrlRemoteError, ProbeFloorError } from './errors.ts'
import type { LinkProbe } from './probe.ts'
import { type FloorHold, Hold, leaseMs, MAX_FLOOR_MS, type Verdict } from './probe-hold.ts'
import type { PeerTarget } from './protocol.ts'

/** `atoll.probe.run` probes for at most this budget, so its answer comes within the ctrl timeout. */
export const MAX_RUN_SECONDS = 5
/** How long a refused priority asker stays next in line without asking again. */
const RESERVE_MS = 5_000
/**
 * A floor request gets this long; a peer that answers later (a daemon busy probing a 1 Gbit/s link
 * answers slowly) counts as refusing, and is asked again at the next attempt.
 */
const ASK_TIMEOUT_MS = 3_000
/** Between attempts to take the floor, this long on average (randomised so that askers drift apart). */
const RETRY_MS = 300
/**
 * A background asker doubles its pause after each refusal, up to 2^this: daemons refused together
 * (woken by one release) would otherwise keep asking at the same moments and refusing each other.
 */
const MAX_BACKOFF_DOUBLINGS = 3

const peerText = z.string().check(z.maxLength(1024))
const nonNegative = z.number().check(z.gte(0))
const probeTargetText = peerText.check(
  z.refine(isProbeTarget, { error: 'a multiaddr (/ip4/…/p2p/…) or a peer id' }),
)

/** Asks for the floor for `ms` (0 gives it back); `priority` for a measurement or a job's planning. */
export const floorMethod = ctrlMethod(
  'atoll.probe.floor',
  z.object({ ms: z.int().check(z.gte(0), z.lte(MAX_FLOOR_MS)), priority: z.boolean() }),
  z.object({ granted: z.boolean(), holder: z.optional(peerText) }),
)

/** Has the called node probe `target` (a multiaddr or a peer id) for the holder of its floor. */
export const probeRunMethod = ctrlMethod(
  'atoll.probe.run',
  z.object({ target: probeTargetText, seconds: z.number().check(z.gt(0), z.lte(MAX_RUN_SECONDS)) }),
  z.object({
    peer: peerText,
    rttMs: nonNegative,
    bytesPerSecond: nonNegative,
    bytes: nonNegative,
    seconds: nonNegative,
    measuredAt: nonNegative,
  }),
)

interface Lease {
  holder: string
  /** ms since the epoch */
  until: number
}

export interface AcquireOptions {
  /** A measurement or a job's planning: next in line when refused (default false). */
  priority?: boolean
  /** Keep asking for up to this long (default 0: one attempt). */
  waitMs?: number
  /** Stops asking (a stopping daemon); a floor granted meanwhile is given back. */
  signal?: AbortSignal
}

export class ProbeFloor {
  private grant: Lease | undefined
  private reserved: Lease | undefined
  /** What this node does with the floor itself; a hold counts until its give-back is done. */
  private own: 'idle' | 'asking' | FloorHold = 'idle'
  private readonly waiters = new Set<() => void>()
  private readonly ctrl: CtrlRpc
  private readonly self: string

  constructor(ctrl: CtrlRpc, probe: LinkProbe, self: string) {
    this.ctrl = ctrl
    this.self = self
    ctrl.serve(floorMethod, ({ ms, priority }, from) => this.answer(from, ms, priority))
    ctrl.serve(probeRunMethod, ({ target, seconds }, from, signal) => {
      if (this.active(this.grant)?.holder !== from) {
        throw new ProbeFloorError(`${from} asked for a probe without holding the floor (${floorMethod.name})`)
      }
      return probe.probe(probeTarget(target), { seconds, signal })
    })
  }

  /** The peer that holds this node's floor, or is next in line for it; undefined when free. */
  blockedBy(): string | undefined {
    return this.blocking()?.holder
  }

  /** Resolves once no other peer holds this node's floor or is next in line for it, or `signal` aborts. */
  async whenFree(signal?: AbortSignal): Promise<void> {
    for (let lease = this.blocking(); lease !== undefined && !signal?.aborted; lease = this.blocking()) {
      const until = lease.until
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          this.waiters.delete(done)
          signal?.removeEventListener('abort', done)
          resolve()
        }
        const timer = setTimeout(done, until - Date.now())
        timer.unref?.()
        this.waiters.add(done)
        signal?.addEventListener('abort', done, { once: true })
      })
    }
  }

  /**
   * Asks every peer in `peers` for the floor for `ms`. Resolves to the hold once all granted it (a peer
   * that cannot be reached, or does not serve the floor, cannot object); otherwise gives back what it
   * got and tries again until `waitMs` has passed, then resolves to undefined.
   */
  async acquire(
    peers: PeerTarget[],
    ms: number,
    options: AcquireOptions = {},
  ): Promise<FloorHold | undefined> {
    const deadline = Date.now() + (options.waitMs ?? 0)
    const params = { ms: leaseMs(ms), priority: options.priority ?? false }
    for (let refusals = 0; !options.signal?.aborted; refusals++) {
      if (this.own === 'idle' && this.blocking() === undefined) {
        const hold = await this.attempt(peers, params, options.signal)
        if (hold !== undefined) return hold
      }
      // a priority asker is next in line already; it need not give way
      const doublings = params.priority ? 0 : Math.min(refusals, MAX_BACKOFF_DOUBLINGS)
      const pause = RETRY_MS * 2 ** doublings * (0.5 + Math.random())
      if (Date.now() + pause > deadline) return undefined
      await pauseFor(pause, options.signal)
    }
    return undefined
  }

  /** Asks every peer once: the hold if all granted, else undefined once what was granted is given back. */
  private async attempt(
    peers: PeerTarget[],
    params: { ms: number; priority: boolean },
    signal: AbortSignal | undefined,
  ): Promise<FloorHold | undefined> {
    this.own = 'asking'
    const askedAt = Date.now()
    const verdicts = await Promise.all(peers.map((p) => this.ask(p, params)))
    if (verdicts.every((v) => v.outcome === 'granted') && !signal?.aborted) {
      const hold: FloorHold = new Hold(
        {
          peers,
          renew: (ms) => Promise.all(peers.map((p) => this.ask(p, { ...params, ms }))),
          giveBack: () => this.settle(hold, peers),
        },
        askedAt,
        params.ms,
      )
      this.own = hold
      return hold
    }
    // a peer that refused kept this node next in line, if it asked with priority: not given back
    await this.settle(
      'asking',
      peers.filter((_, k) => verdicts[k].outcome !== 'refused'),
    )
    return undefined
  }

  /** Gives the floor back on `peers`, then, if this node still is in state `from`, lets it grant again. */
  private async settle(from: 'asking' | FloorHold, peers: PeerTarget[]): Promise<void> {
    await Promise.all(peers.map((p) => this.ask(p, { ms: 0, priority: false })))
    if (this.own === from) this.own = 'idle'
    this.wake()
  }

  private async ask(peer: PeerTarget, params: { ms: number; priority: boolean }): Promise<Verdict> {
    const name = String(peer)
    try {
      const answer = await this.ctrl.call(peer, floorMethod, params, { timeoutMs: ASK_TIMEOUT_MS })
      if (answer.granted) return { peer: name, outcome: 'granted' }
      return {
        peer: name,
        outcome: 'refused',
        why: `its floor is held by ${answer.holder ?? 'another node'}`,
      }
    } catch (err) {
      // a peer that cannot be reached, or does not serve the floor, probes nothing through our links
      if (cannotObject(err as Error)) return { peer: name, outcome: 'granted' }
      const e = err as Error
      return { peer: name, outcome: 'failed', why: `${e.name}: ${e.message}` }
    }
  }

  private answer(from: string, ms: number, priority: boolean): z.output<typeof floorMethod.response> {
    const now = Date.now()
    const grant = this.active(this.grant)
    if (ms === 0) {
      if (grant?.holder === from) this.grant = undefined
      if (this.reserved?.holder === from) this.reserved = undefined
      this.wake()
      return { granted: true }
    }
    const reserved = this.active(this.reserved)
    const free =
      grant === undefined && this.own === 'idle' && (reserved === undefined || reserved.holder === from)
    if (grant?.holder === from || free) {
      this.grant = { holder: from, until: now + ms }
      if (reserved?.holder === from) this.reserved = undefined
      return { granted: true }
    }
    if (priority && (reserved === undefined || reserved.holder === from)) {
      this.reserved = { holder: from, until: now + RESERVE_MS }
    }
    return { granted: false, holder: grant?.holder ?? (this.own === 'idle' ? reserved?.holder : this.self) }
  }

  /** A lease of another peer that keeps this node from asking for the floor. */
  private blocking(): Lease | undefined {
    return this.active(this.grant) ?? this.active(this.reserved)
  }

  private active(lease: Lease | undefined): Lease | undefined {
    return lease !== undefined && lease.until > Date.now() ? lease : undefined
  }

  private wake(): void {
    for (const done of [...this.waiters]) done()
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
function pauseFor(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

/** Whether a failed floor request means the peer cannot object: unreachable, or without the method. */
function cannotObject(err: Error): boolean {
  return (
    err.name === 'PeerUnreachableError' ||
    (err instanceof CtrlRemoteError && err.remoteName === 'UnknownMethodError')
  )
}

/** A multiaddr (`/ip4/…/p2p/…`) or a peer id, as `atoll.probe.run` takes its target. */
function isProbeTarget(target: string): boolean {
  try {
    if (target.startsWith('/')) multiaddr(target)
    else peerIdFromString(target)
    return true
  } catch {
    return false
  }
}

/** `atoll.probe.run`'s target (checked by its schema) as something to dial. */
function probeTarget(target: string): PeerTarget {
  return target.startsWith('/') ? multiaddr(target) : target
}
