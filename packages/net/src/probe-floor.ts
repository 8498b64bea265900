/**
 * One probe at a time in the whole mesh. Two probes that cross one shaped hop split it and each reads
 * about half of it; serialising probes per node and per server does not see two pairs of peers in the
 * same two sites (measured on geo3: daemons' start-up probes overlapping `status --measure` read the
 * 20 Mbit/s link as 16 and the 50 Mbit/s one as 40.6). So a node probes only while it holds the
 * *floor*: every peer it knows has granted it a lease, and grants no one else until it is released or
 * runs out. A node refuses the floor while it asks for it, holds it, or has granted it to another.
 *
 * A measurement (or a job's planning) asks with priority: a refused priority asker is next in line,
 * so background probes cannot starve it. It holds the floor for its whole run and has the daemons
 * probe for it with `atoll.probe.run`, which they do only for the holder of their floor; meanwhile
 * their background probes wait.
 */
import { multiaddr } from '@multiformats/multiaddr'
import * as z from 'zod/mini'
import { type CtrlRpc, ctrlMethod } from './ctrl.ts'
import { ProbeFloorError, SchemaError } from './errors.ts'
import type { LinkProbe } from './probe.ts'
import type { PeerTarget } from './protocol.ts'

/** The longest lease: a holder that dies leaves its peers unable to probe for at most this long. */
export const MAX_FLOOR_MS = 120_000
/** `atoll.probe.run` probes for at most this budget, so its answer comes within the ctrl timeout. */
export const MAX_RUN_SECONDS = 5
/** How long a refused priority asker stays next in line without asking again. */
const RESERVE_MS = 5_000
/** A floor request gets this long: the floor is about not overlapping, not about waiting for the slow. */
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

/** Asks for the floor for `ms` (0 gives it back); `priority` for a measurement or a job's planning. */
export const floorMethod = ctrlMethod(
  'atoll.probe.floor',
  z.object({ ms: z.int().check(z.gte(0), z.lte(MAX_FLOOR_MS)), priority: z.boolean() }),
  z.object({ granted: z.boolean(), holder: z.optional(peerText) }),
)

/** Has the called node probe `target` (a multiaddr or a peer id) for the holder of its floor. */
export const probeRunMethod = ctrlMethod(
  'atoll.probe.run',
  z.object({ target: peerText, seconds: z.number().check(z.gt(0), z.lte(MAX_RUN_SECONDS)) }),
  z.object({
    peer: peerText,
    rttMs: nonNegative,
    bytesPerSecond: nonNegative,
    bytes: nonNegative,
    seconds: nonNegative,
    measuredAt: nonNegative,
  }),
)

type FloorAnswer = z.output<typeof floorMethod.response>

interface Lease {
  holder: string
  /** ms since the epoch */
  until: number
}

/** The floor this node holds over `peers`, until released. */
export interface FloorHold {
  peers: PeerTarget[]
  /** Renews the lease on every peer (a long measurement renews before each link). */
  extend(ms: number): Promise<void>
  release(): Promise<void>
}

export interface AcquireOptions {
  /** A measurement or a job's planning: next in line when refused (default false). */
  priority?: boolean
  /** Keep asking for up to this long (default 0: one attempt). */
  waitMs?: number
}

export class ProbeFloor {
  private grant: Lease | undefined
  private reserved: Lease | undefined
  private own: 'idle' | 'asking' | 'holding' = 'idle'
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

  /** Resolves once no other peer holds this node's floor or is next in line for it. */
  async whenFree(): Promise<void> {
    for (let lease = this.blocking(); lease !== undefined; lease = this.blocking()) {
      const until = lease.until
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          this.waiters.delete(done)
          resolve()
        }
        const timer = setTimeout(done, until - Date.now())
        timer.unref?.()
        this.waiters.add(done)
      })
    }
  }

  /**
   * Asks every peer in `peers` for the floor for `ms`. Resolves to the hold once all granted it (a peer
   * that cannot be reached, or does not know the floor, cannot object); otherwise gives back what it
   * got and tries again until `waitMs` has passed, then resolves to undefined.
   */
  async acquire(
    peers: PeerTarget[],
    ms: number,
    options: AcquireOptions = {},
  ): Promise<FloorHold | undefined> {
    const deadline = Date.now() + (options.waitMs ?? 0)
    const params = { ms: Math.min(Math.round(ms), MAX_FLOOR_MS), priority: options.priority ?? false }
    for (let refusals = 0; ; refusals++) {
      if (this.own === 'idle' && this.blocking() === undefined) {
        this.own = 'asking'
        const answers = await Promise.all(peers.map((p) => this.ask(p, params)))
        if (answers.every((a) => a.granted)) {
          this.own = 'holding'
          return this.hold(peers, params.priority)
        }
        await this.giveBack(peers.filter((_, k) => answers[k].granted))
        this.own = 'idle'
        this.wake()
      }
      // a priority asker is next in line already; it need not give way
      const doublings = params.priority ? 0 : Math.min(refusals, MAX_BACKOFF_DOUBLINGS)
      const pause = RETRY_MS * 2 ** doublings * (0.5 + Math.random())
      if (Date.now() + pause > deadline) return undefined
      await new Promise((resolve) => setTimeout(resolve, pause))
    }
  }

  private hold(peers: PeerTarget[], priority: boolean): FloorHold {
    return {
      peers,
      extend: async (ms) => {
        const params = { ms: Math.min(Math.round(ms), MAX_FLOOR_MS), priority }
        await Promise.all(peers.map((p) => this.ask(p, params)))
      },
      release: async () => {
        await this.giveBack(peers)
        this.own = 'idle'
        this.wake()
      },
    }
  }

  private async ask(peer: PeerTarget, params: { ms: number; priority: boolean }): Promise<FloorAnswer> {
    try {
      return await this.ctrl.call(peer, floorMethod, params, { timeoutMs: ASK_TIMEOUT_MS })
    } catch {
      // unreachable, too slow or too old to know the floor: such a peer is not probing through our links
      return { granted: true }
    }
  }

  private async giveBack(peers: PeerTarget[]): Promise<void> {
    await Promise.all(peers.map((p) => this.ask(p, { ms: 0, priority: false })))
  }

  private answer(from: string, ms: number, priority: boolean): FloorAnswer {
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

/** A multiaddr (`/ip4/…/p2p/…`) or a peer id, as `atoll.probe.run` takes its target. */
function probeTarget(target: string): PeerTarget {
  if (!target.startsWith('/')) return target
  try {
    return multiaddr(target)
  } catch (err) {
    throw new SchemaError(
      `${probeRunMethod.name} params.target: expected a multiaddr, found ${JSON.stringify(target)} (${(err as Error).message})`,
    )
  }
}
